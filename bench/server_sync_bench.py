"""Benchmark of the sync API over real HTTP: 10,000 appointments of one clinician.

A real `clinic-desk-server serve` process on 127.0.0.1 (SQLite, or a throwaway PostgreSQL
cluster with --postgres). Prints: the initial sync (pull from cursor 0 until has_more is false),
100 concurrent pushes (half bookings, half edits), the pull of that day's work, and one day's
schedule. Targets (issue 3): initial sync <= 2 s; no errors under load.

    .venv/bin/python bench/server_sync_bench.py [--appointments 10000] [--postgres]
"""

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import server_harness

PUSHES = 100
PAGE = 1000


def _login(base: str, username: str) -> dict[str, str]:
    body = {"username": username, "password": server_harness.PASSWORD}
    answer = httpx.post(f"{base}/auth/login", json=body, timeout=30)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _pull_all(client: httpx.Client, cursor: int) -> tuple[int, dict[str, int], int]:
    """Pull until has_more is false: (cursor, records by type, pages)."""
    counts: dict[str, int] = {}
    pages = 0
    while True:
        answer = client.get("/sync/pull", params={"protocol": 1, "cursor": cursor, "limit": PAGE})
        answer.raise_for_status()
        page = answer.json()
        pages += 1
        for change in page["changes"]:
            counts[change["type"]] = counts.get(change["type"], 0) + 1
        cursor = page["cursor"]
        if not page["has_more"]:
            return cursor, counts, pages


def _mutation(number: int, seeded: server_harness.Seeded, day: datetime) -> dict[str, Any]:
    """Even numbers book a new slot on `day`; odd numbers edit an existing appointment."""
    if number % 2 == 0:
        payload = {
            "patient_id": str(seeded.patients[number]),
            "clinician_id": str(seeded.clinician),
            "start": (day + timedelta(minutes=5 * number)).isoformat(),
            "duration_minutes": 5,
            "kind": "video",
        }
        intent, entity, base = "appointment.create", uuid.uuid4(), None
    else:
        payload = {"notes": f"Edited by push {number}"}
        intent, entity, base = "appointment.update", seeded.appointments[number], 1
    return {
        "id": str(uuid.uuid4()),
        "seq": 1,
        "intent": intent,
        "entity_id": str(entity),
        "base_version": base,
        "payload": payload,
    }


async def _pushes(
    base: str, headers: dict[str, str], seeded: server_harness.Seeded, day: datetime
) -> tuple[float, list[float], list[str]]:
    """PUSHES concurrent pushes of one mutation each: (wall time, durations, errors)."""
    errors: list[str] = []
    durations: list[float] = []
    limits = httpx.Limits(max_connections=PUSHES)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as c:

        async def push(number: int) -> None:
            body = {
                "protocol": 1,
                "client_id": str(uuid.uuid4()),
                "mutations": [_mutation(number, seeded, day)],
            }
            started = time.perf_counter()
            try:
                answer = await c.post("/sync/push", json=body)
            except httpx.HTTPError as error:
                errors.append(f"push {number}: {error!r}")
                return
            durations.append(time.perf_counter() - started)
            if answer.status_code != 200:
                errors.append(f"push {number}: HTTP {answer.status_code} {answer.text[:200]}")
                return
            result = answer.json()["results"][0]
            if result["status"] != "applied":
                errors.append(f"push {number}: rejected {result['reason']}: {result['message']}")

        started = time.perf_counter()
        await asyncio.gather(*(push(n) for n in range(PUSHES)))
        return time.perf_counter() - started, durations, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--patients", type=int, default=2_000)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    database = "PostgreSQL" if args.postgres else "SQLite"
    run_started = time.monotonic()
    first_day = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    first_day += timedelta(days=1)
    days = -(-args.appointments // 100)
    with server_harness.database(args.postgres) as url:
        seeded = server_harness.seed(url, args.appointments, args.patients, 1, first_day)
        with server_harness.served(url) as base:
            clinician = _login(base, "dr.bench")
            clerk = _login(base, "clerk0")
            with httpx.Client(base_url=base, headers=clinician, timeout=60) as client:
                started = time.perf_counter()
                cursor, counts, pages = _pull_all(client, 0)
                initial = time.perf_counter() - started

                wall, durations, errors = asyncio.run(
                    _pushes(base, clerk, seeded, first_day + timedelta(days=days))
                )

                started = time.perf_counter()
                _, day_counts, _ = _pull_all(client, cursor)
                day_pull = time.perf_counter() - started

                window: dict[str, str | int] = {
                    "start_from": first_day.isoformat(),
                    "start_before": (first_day + timedelta(days=1)).isoformat(),
                    "limit": 500,
                }
                started = time.perf_counter()
                schedule = client.get("/appointments", params=window)
                schedule.raise_for_status()
                day_view = time.perf_counter() - started
    print()
    print(f"Sync over HTTP, {database}, {args.appointments} appointments of one clinician")
    print(
        f"  initial sync     {initial * 1000:7.0f} ms  ({pages} pages: "
        f"{counts.get('appointment', 0)} appointments, {counts.get('patient', 0)} patients; "
        "target <= 2000 ms)"
    )
    print(
        f"  {PUSHES} concurrent pushes: {wall * 1000:.0f} ms in all, per push p50 "
        f"{statistics.median(durations) * 1000:.0f} ms, max {max(durations) * 1000:.0f} ms; "
        f"errors: {len(errors)} (target: none)"
    )
    for error in errors[:10]:
        print(f"    {error}")
    print(
        f"  the day's pull   {day_pull * 1000:7.0f} ms  "
        f"({day_counts.get('appointment', 0)} appointments changed by the pushes)"
    )
    print(
        f"  one day's schedule (GET /appointments) {day_view * 1000:.0f} ms, "
        f"{len(schedule.json())} appointments"
    )
    print(f"  run time {time.monotonic() - run_started:.0f} s")


if __name__ == "__main__":
    main()
