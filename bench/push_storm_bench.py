"""Benchmark: a push storm on PostgreSQL while desktops listen — where pushes queue.

A throwaway PostgreSQL cluster, 1 or N real `clinic-desk-server serve` processes on 127.0.0.1
(clients spread themselves over the processes' ports: no balancer needed), `--listeners`
realtime sockets signed in as clerks who see the booked schedules, and `--pushers` desktops
(clerks, one clinician's schedule each) that each push `--rounds` times a batch of `--batch`
mutations through POST /sync/push exactly as the desktop sends it: half bookings of new slots,
half edits of existing appointments. The load generator runs in worker processes of its own.

Prints push p50/p95/max, applied mutations per second, the "changes" events the listeners got,
the CPU the load generator took, and (with --activity) what PostgreSQL's backends were doing,
sampled from pg_stat_activity every 20 ms during the storm. Targets (issue 16): p95 <= 1 s,
>= 1,000 mutations/s with 1 and 3 processes.

    .venv/bin/python bench/push_storm_bench.py [--processes 3] [--pushers 50] [--activity]
"""

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import statistics
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

import httpx
import psycopg
import server_harness
import websockets
from sqlalchemy import insert, make_url
from sqlmodel import Session

from server.database import create_db_engine
from server.models.access import Assignment
from server.models.appointment import Appointment
from server.models.patient import Patient
from server.models.sync import Change
from server.models.user import User
from server.security.secret_file import load_or_create, secret_path
from shared.enums import AppointmentKind, AppointmentStatus, Role

DEADLINE_SECONDS = 300
#: Existing appointments per clinician (the edits' targets), 5 minutes apart on the first day.
BOOKED_PER_CLINICIAN = 100


def _seed(url: str, clinicians: int, pushers: int, listeners: int, day: datetime) -> dict[str, Any]:
    """Clinicians with a booked day each, a pushing clerk per slot, listening clerks."""
    now = datetime.now(UTC).replace(microsecond=0)
    password = server_harness._SEED_PASSWORDS.hash(server_harness.PASSWORD)
    doctors = [uuid.uuid4() for _ in range(clinicians)]
    pushing = [uuid.uuid4() for _ in range(pushers)]
    listening = [uuid.uuid4() for _ in range(listeners)]
    patients = [uuid.uuid4() for _ in range(500)]
    booked = {d: [uuid.uuid4() for _ in range(BOOKED_PER_CLINICIAN)] for d in doctors}

    def user(user_id: uuid.UUID, name: str, role: Role) -> dict[str, Any]:
        return dict(id=user_id, username=name, full_name=name, role=role,
                    password_hash=password, created_at=now)

    users = [user(d, f"dr{n}", Role.CLINICIAN) for n, d in enumerate(doctors)]
    users += [user(c, f"pusher{n}", Role.CLERK) for n, c in enumerate(pushing)]
    users += [user(c, f"listener{n}", Role.CLERK) for n, c in enumerate(listening)]
    assignments = [
        dict(clerk_id=clerk, clinician_id=doctors[n % clinicians])
        for clerks in (pushing, listening)
        for n, clerk in enumerate(clerks)
    ]
    appointments = [
        dict(id=aid, patient_id=patients[n % len(patients)], clinician_id=d,
             start=day + timedelta(minutes=5 * n), duration_minutes=5,
             kind=AppointmentKind.VIDEO, status=AppointmentStatus.SCHEDULED,
             created_by_id=d, created_at=now, updated_at=now)
        for d, ids in booked.items()
        for n, aid in enumerate(ids)
    ]
    patient_rows = [
        dict(id=pid, name=f"Patient {n:05d}", mrn=f"MRN{n:05d}", email=f"p{n}@example.org",
             phone="", created_at=now, updated_at=now)
        for n, pid in enumerate(patients)
    ]
    changes = [
        dict(entity_type="appointment", entity_id=row["id"], scope_id=row["clinician_id"],
             deleted=False, at=now)
        for row in appointments
    ]
    engine = create_db_engine(url)
    with Session(engine) as session:
        session.execute(insert(User), users)
        session.execute(insert(Patient), patient_rows)
        session.execute(insert(Appointment), appointments)
        session.execute(insert(Change), changes)
        session.execute(insert(Assignment), assignments)
        session.commit()
    engine.dispose()
    return {"doctors": doctors, "pushing": pushing, "listening": listening,
            "patients": patients, "booked": booked}


def _batch(
    pusher: int, number: int, batch: int, seeded: dict[str, Any], free_day: datetime
) -> list[dict[str, Any]]:
    """Round `number` of one pusher: even mutations book a new slot, odd ones edit notes."""
    doctors = seeded["doctors"]
    doctor = doctors[pusher % len(doctors)]
    sharer = pusher // len(doctors)  # pushers sharing a clinician book different slots
    mutations = []
    for k in range(batch):
        index = sharer * 10_000 + number * batch + k
        if k % 2 == 0:
            start = free_day + timedelta(days=number, minutes=5 * (k + batch * sharer))
            payload: dict[str, Any] = {
                "patient_id": str(seeded["patients"][index % len(seeded["patients"])]),
                "clinician_id": str(doctor), "start": start.isoformat(),
                "duration_minutes": 5, "kind": "video",
            }
            intent, entity, base = "appointment.create", str(uuid.uuid4()), None
        else:
            target = (sharer * 50 + number * (batch // 2) + k // 2) % BOOKED_PER_CLINICIAN
            payload = {"notes": f"Edited in round {number} by pusher {pusher}"}
            intent, entity, base = "appointment.update", str(seeded["booked"][doctor][target]), 1
        mutations.append({"id": str(uuid.uuid4()), "seq": number * batch + k + 1,
                          "intent": intent, "entity_id": entity, "base_version": base,
                          "payload": payload})
    return mutations


async def _pushers(job: dict[str, Any], go: Event, out: "Queue[Any]") -> None:
    durations: list[float] = []
    errors: list[str] = []
    applied = 0

    async def pusher(n: int, base: str, token: str) -> None:
        nonlocal applied
        headers = {"Authorization": f"Bearer {token}"}
        client_id = str(uuid.uuid4())
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
            await client.get("/healthz")
            while not go.is_set():
                await asyncio.sleep(0.01)
            for number in range(job["rounds"]):
                mutations = _batch(n, number, job["batch"], job["seeded"], job["free_day"])
                body = {"protocol": 1, "client_id": client_id, "mutations": mutations}
                started = time.monotonic()
                try:
                    answer = await client.post("/sync/push", json=body)
                except httpx.HTTPError as error:
                    errors.append(f"pusher {n}: {error!r}")
                    continue
                durations.append(time.monotonic() - started)
                if answer.status_code != 200:
                    errors.append(f"pusher {n}: HTTP {answer.status_code} {answer.text[:200]}")
                    continue
                for result in answer.json()["results"]:
                    if result["status"] == "applied":
                        applied += 1
                    else:
                        errors.append(f"pusher {n}: {result['reason']}: {result['message']}")

    await asyncio.gather(*(pusher(n, base, token) for n, base, token in job["pushers"]))
    out.put(("pushed", durations, errors, applied, time.process_time()))


async def _listeners(job: dict[str, Any], stop: Event, out: "Queue[Any]") -> None:
    async def listener(url: str, token: str) -> tuple[int, int]:
        events, cursor = 0, 0
        async with websockets.connect(url, open_timeout=60, max_queue=None) as socket:
            await socket.send(json.dumps({"type": "auth", "access_token": token}))
            hello = json.loads(await socket.recv())
            assert hello["type"] == "hello", hello
            out.put(("ready", 1))
            while not stop.is_set():
                try:
                    message = json.loads(await asyncio.wait_for(socket.recv(), 0.2))
                except TimeoutError:
                    continue
                if message["type"] == "changes":
                    events += 1
                    cursor = max(cursor, int(message["cursor"]))
        return events, cursor

    tasks = []
    for url, token in job["listeners"]:
        tasks.append(asyncio.ensure_future(listener(url, token)))
        await asyncio.sleep(0.005)  # do not open every handshake at once
    heard = await asyncio.gather(*tasks)
    out.put(("heard", heard, time.process_time()))


def _worker(kind: str, job: dict[str, Any], flag: Event, out: "Queue[Any]") -> None:
    asyncio.run((_pushers if kind == "push" else _listeners)(job, flag, out))


def _sample_activity(url: str, stop: threading.Event, seen: collections.Counter[str],
                     queries: collections.Counter[str]) -> None:
    """What each active backend waits on, every 20 ms (PostgreSQL's own view)."""
    plain = url.replace("postgresql+psycopg:", "postgresql:")
    with psycopg.connect(plain, autocommit=True) as connection:
        while not stop.is_set():
            rows = connection.execute(
                "SELECT state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-'), query"
                " FROM pg_stat_activity WHERE backend_type = 'client backend'"
                " AND pid <> pg_backend_pid() AND state <> 'idle'"
                " AND query NOT LIKE 'LISTEN%'"
            ).fetchall()
            for state, wait_type, wait, query in rows:
                seen[f"{state:<20} {wait_type}:{wait}"] += 1
                if wait_type != "-" or state == "active":
                    queries[f"{wait_type}:{wait}  {' '.join(query.split())[:110]}"] += 1
            time.sleep(0.02)


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine so far."""
    with open("/proc/stat") as stat:
        fields = [float(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (parent pid, command line, CPU seconds so far)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry)] = (int(fields[1]), command, (int(fields[11]) + int(fields[12])) / tick)
    return found


def _cpu(roots: set[int], table: dict[int, tuple[int, str, float]]) -> float:
    """CPU seconds of `roots` and all their descendants in `table`."""
    total, tree = 0.0, set(roots)
    grown = True
    while grown:
        grown = False
        for pid, (parent, _, _) in table.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grown = True
    for pid in tree:
        if pid in table:
            total += table[pid][2]
    return total


def _server_and_database(port: int) -> tuple[set[int], set[int]]:
    """The served processes (children of this one) and the cluster's postmaster."""
    table = _processes()
    servers = {pid for pid, (parent, command, _) in table.items()
               if parent == os.getpid() and "clinic-desk-server" in command}
    postmaster = {pid for pid, (_, command, _) in table.items()
                  if command.split(" ")[0].endswith("/postgres") and f"-p {port} " in command}
    return servers, postmaster


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=1, help="server processes")
    parser.add_argument("--pushers", type=int, default=50)
    parser.add_argument("--batch", type=int, default=10, help="mutations per push")
    parser.add_argument("--rounds", type=int, default=4, help="pushes per pusher")
    parser.add_argument("--listeners", type=int, default=200)
    parser.add_argument("--clinicians", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes each")
    parser.add_argument("--activity", action="store_true", help="sample pg_stat_activity")
    args = parser.parse_args()
    run_started = time.monotonic()
    first_day = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    first_day += timedelta(days=1)
    with server_harness.database(True) as url, ExitStack() as servers:
        seeded = _seed(url, args.clinicians, args.pushers, args.listeners, first_day)
        secret = secret_path(url)
        assert secret is not None
        servers.callback(secret.unlink, missing_ok=True)
        tokens = server_harness.access_tokens(
            url, seeded["pushing"] + seeded["listening"], load_or_create(secret)
        )
        push_tokens, listen_tokens = tokens[: args.pushers], tokens[args.pushers :]
        bases = [servers.enter_context(server_harness.served(url)) for _ in range(args.processes)]
        context = multiprocessing.get_context("spawn")
        out: Queue[Any] = context.Queue()
        go, stop = context.Event(), context.Event()
        listeners = [(bases[n % len(bases)].replace("http://", "ws://") + "/realtime", token)
                     for n, token in enumerate(listen_tokens)]
        pushers = [(n, bases[n % len(bases)], token) for n, token in enumerate(push_tokens)]
        common = {"rounds": args.rounds, "batch": args.batch, "seeded": seeded,
                  "free_day": first_day + timedelta(days=1)}
        workers = [
            context.Process(target=_worker, daemon=True,
                            args=("listen", {"listeners": listeners[w :: args.workers]}, stop, out))
            for w in range(args.workers)
        ] + [
            context.Process(target=_worker, daemon=True,
                            args=("push", common | {"pushers": pushers[w :: args.workers]}, go,
                                  out))
            for w in range(args.workers)
        ]
        for worker in workers:
            worker.start()
        for _ in range(args.listeners):
            assert out.get(timeout=DEADLINE_SECONDS)[0] == "ready"
        print(f"{args.listeners} listeners signed in over {args.processes} process(es)")
        time.sleep(2)  # the pushers' workers import and connect meanwhile
        seen: collections.Counter[str] = collections.Counter()
        queries: collections.Counter[str] = collections.Counter()
        sampling = threading.Event()
        sampler = threading.Thread(target=_sample_activity, args=(url, sampling, seen, queries))
        if args.activity:
            sampler.start()
        servers_pids, database_pids = _server_and_database(make_url(url).port or 0)
        before = _processes()
        busy_before = _machine_busy()
        storm_started = time.monotonic()
        go.set()
        durations: list[float] = []
        errors: list[str] = []
        applied = 0
        generator_cpu = 0.0
        for _ in range(args.workers):
            kind, times, failures, count, cpu = out.get(timeout=DEADLINE_SECONDS)
            assert kind == "pushed"
            durations += times
            errors += failures
            applied += count
            generator_cpu += cpu
        storm = time.monotonic() - storm_started
        busy_after = _machine_busy()
        after = _processes()
        server_cpu = _cpu(servers_pids, after) - _cpu(servers_pids, before)
        database_cpu = _cpu(database_pids, after) - _cpu(database_pids, before)
        sampling.set()
        if args.activity:
            sampler.join()
        time.sleep(1)  # the last "changes" events reach the listeners
        stop.set()
        heard: list[tuple[int, int]] = []
        for _ in range(args.workers):
            kind, got, cpu = out.get(timeout=DEADLINE_SECONDS)
            heard += got
            generator_cpu += cpu
        for worker in workers:
            worker.join(timeout=10)
    expected = args.pushers * args.rounds * args.batch
    busy = (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1])
    print()
    print(f"Push storm, PostgreSQL, {args.processes} server process(es): {args.pushers} pushers x "
          f"{args.rounds} pushes of {args.batch} mutations, {args.listeners} listening sockets, "
          f"{args.clinicians} clinicians")
    print(f"  pushes       {len(durations)}; p50 {statistics.median(durations) * 1000:.0f} ms, "
          f"p95 {_percentile(durations, 0.95) * 1000:.0f} ms, max {max(durations) * 1000:.0f} ms "
          "(target p95 <= 1000 ms)")
    print(f"  applied      {applied} of {expected} mutations in {storm:.2f} s: "
          f"{applied / storm:.0f} mutations/s (target >= 1000)")
    print(f"  errors       {len(errors)}")
    for error in errors[:5]:
        print(f"    {error}")
    events = [e for e, _ in heard]
    print(f"  listeners    {len(heard)} heard 'changes' events: median "
          f"{statistics.median(events):.0f}, min {min(events)}; newest cursor heard by all: "
          f"{min(c for _, c in heard)}")
    print(f"  load generator CPU {generator_cpu:.1f} s ({args.workers * 2} processes); "
          f"machine busy {busy * 100:.0f} % of {os.cpu_count()} cores during the storm")
    print(f"  CPU per applied mutation: server {server_cpu * 1000 / max(applied, 1):.2f} ms "
          f"({server_cpu:.1f} s in all), PostgreSQL {database_cpu * 1000 / max(applied, 1):.2f}"
          f" ms ({database_cpu:.1f} s); the machine's other load shares the cores")
    if args.activity:
        total = sum(seen.values()) or 1
        print("  pg_stat_activity samples of non-idle backends (state, wait event):")
        for key, count in seen.most_common(8):
            print(f"    {count * 100 / total:5.1f} %  {key}")
        print("  most sampled statements (wait event, query):")
        for key, count in queries.most_common(8):
            print(f"    {count:6d}  {key}")
    print(f"  run time {time.monotonic() - run_started:.0f} s")


if __name__ == "__main__":
    main()
