"""Benchmark: one waiting-room presence event fanned out to 1,000 connected desktops.

A real server process on 127.0.0.1 (SQLite, or PostgreSQL with --postgres: the event then
travels through NOTIFY/LISTEN); the desktops are WebSocket clients in worker processes, each
signed in as its own user allowed to see the appointment. Latency is from the server's commit
that publishes the event to each client's receipt (CLOCK_MONOTONIC is system-wide on Linux).
Target (issue 3): p95 <= 100 ms at 1,000 clients. `--event changes` times the "changes" hint of
a clerk's write instead, from sending the request (so it includes the request's own work).

    .venv/bin/python bench/server_fanout_bench.py [--clients 1000] [--rounds 20] [--postgres]
        [--processes 3]

`--processes N` (PostgreSQL) serves N server processes on the one database and spreads the
clients over them (issue 16: presence fan-out to 1,000 sockets over 3 processes, p95 <= 100 ms);
the event is published by the first and reaches the others through NOTIFY.
"""

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from typing import Any

import httpx
import server_harness
import websockets

ROUND_GAP_SECONDS = 0.3
SECRET = "a benchmark secret of at least thirty-two characters"
DEADLINE_SECONDS = 60


async def _desktop(
    url: str, token: str, rounds: int, event: str, ready: asyncio.Event
) -> list[float]:
    """Sign in, then note the monotonic time each `event` arrives."""
    times: list[float] = []
    async with websockets.connect(url, open_timeout=30, max_queue=None) as socket:
        await socket.send(json.dumps({"type": "auth", "access_token": token}))
        hello = json.loads(await socket.recv())
        assert hello["type"] == "hello", hello
        ready.set()
        while len(times) < rounds:
            message = await socket.recv()
            arrived = time.monotonic()
            if json.loads(message)["type"] == event:
                times.append(arrived)
    return times


async def _desktops(
    url: str, tokens: list[str], rounds: int, event: str, out: "Queue[Any]"
) -> None:
    events = [asyncio.Event() for _ in tokens]
    tasks = []
    for token, ready in zip(tokens, events, strict=True):
        tasks.append(asyncio.ensure_future(_desktop(url, token, rounds, event, ready)))
        await asyncio.sleep(0)  # do not open every handshake at once
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), DEADLINE_SECONDS)
    out.put(("ready", len(tokens)))
    results = await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE_SECONDS)
    out.put(("times", results))


def _worker(url: str, tokens: list[str], rounds: int, event: str, out: "Queue[Any]") -> None:
    asyncio.run(_desktops(url, tokens, rounds, event, out))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster")
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes (more than 1: PostgreSQL)"
    )
    parser.add_argument(
        "--event",
        choices=["presence", "changes"],
        default="presence",
        help="changes: a clerk's write (POST /patients), timed from sending the request",
    )
    parser.add_argument(
        "--ws-deflate", action="store_true", help="WebSocket compression on (as before)"
    )
    args = parser.parse_args()
    if args.processes > 1 and not args.postgres:
        parser.error("--processes above 1 needs --postgres (SQLite is served by one process)")
    database = "PostgreSQL" if args.postgres else "SQLite"
    started = time.monotonic()
    first_day = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    with server_harness.database(args.postgres) as url:
        seeded = server_harness.seed(url, 100, 100, args.clients - 1, first_day + timedelta(1))
        # One signing secret for the tokens made here and every served process.
        tokens = server_harness.access_tokens(url, [seeded.clinician, *seeded.clerks], SECRET)
        appointment = seeded.appointments[0]
        with ExitStack() as servers:
            command = server_harness.harness_command(args.ws_deflate)
            bases = [
                servers.enter_context(
                    server_harness.served(url, command, {"CLINIC_DESK_SECRET_KEY": SECRET})
                )
                for _ in range(args.processes)
            ]
            base = bases[0]
            context = multiprocessing.get_context("spawn")
            out: Queue[Any] = context.Queue()
            shares = [tokens[i :: args.workers] for i in range(args.workers)]
            # Each client worker's sockets go to one process, the workers spread over them.
            ws_urls = [
                bases[n % len(bases)].replace("http://", "ws://") + "/realtime"
                for n in range(args.workers)
            ]
            workers = [
                context.Process(
                    target=_worker,
                    args=(ws_url, share, args.rounds, args.event, out),
                    daemon=True,
                )
                for ws_url, share in zip(ws_urls, shares, strict=True)
            ]
            for worker in workers:
                worker.start()
            connected = sum(out.get(timeout=DEADLINE_SECONDS)[1] for _ in workers)
            print(
                f"{connected} desktops connected and signed in ({database}, "
                f"{args.processes} server process{'es' if args.processes > 1 else ''})"
            )
            published: list[float] = []
            with httpx.Client(base_url=base, timeout=30) as client:
                clerk = {"Authorization": f"Bearer {tokens[1]}"}
                for number in range(args.rounds):
                    if args.event == "presence":
                        answer = client.post(f"/bench/presence/{appointment}")
                        answer.raise_for_status()
                        published.append(answer.json()["published_at"])
                    else:
                        published.append(time.monotonic())
                        body = {"name": f"Walk-in {number}"}
                        client.post("/patients", json=body, headers=clerk).raise_for_status()
                    time.sleep(ROUND_GAP_SECONDS)
            arrivals: list[list[float]] = []
            for _ in workers:
                kind, times = out.get(timeout=DEADLINE_SECONDS)
                assert kind == "times"
                arrivals.extend(times)
            for worker in workers:
                worker.join(timeout=10)
    latencies = [(times[n] - published[n]) * 1000 for times in arrivals for n in range(args.rounds)]
    worst_rounds = [
        max((times[n] - published[n]) * 1000 for times in arrivals) for n in range(args.rounds)
    ]
    print()
    compression = "on" if args.ws_deflate else "off"
    print(
        f"{args.event.capitalize()} fan-out, {database}, {args.processes} process(es), "
        f"{connected} clients x {args.rounds} events, WebSocket compression {compression}"
    )
    print(f"  received   {len(latencies)} of {connected * args.rounds}")
    print(f"  p50        {statistics.median(latencies):7.1f} ms")
    print(f"  p95        {_percentile(latencies, 0.95):7.1f} ms   (target <= 100 ms)")
    print(f"  max        {max(latencies):7.1f} ms")
    print(f"  last client of a round: median {statistics.median(worst_rounds):.1f} ms")
    print(f"  run time   {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
