"""Benchmark of the FHIR API over real HTTP: a day's appointments among 10,000.

A real `clinic-desk-server serve` process on 127.0.0.1 (SQLite, or a throwaway PostgreSQL
cluster with --postgres), one clinician with 100 appointments a day over 100 days. A system
client takes a token at /fhir/r4/token, then searches random days (`date=YYYY-MM-DD`, with and
without `practitioner`, `_count=100`: the whole day in one searchset Bundle). Prints p50/p95
per search. Target (issue 13): p95 <= 50 ms. --explain first prints the database's plan of
the search's queries (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).

    .venv/bin/python bench/fhir_bench.py [--appointments 10000] [--searches 200] [--postgres]
        [--explain]
"""

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import server_harness
from sqlalchemy import text
from sqlmodel import Session, col, select

from server.database import create_db_engine
from server.fhir.clients import add_client
from server.models.appointment import Appointment, AppointmentExternalId


def _client_secret(url: str) -> str:
    engine = create_db_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        secret = add_client(session, "bench", "Bench PAS", "system/Appointment.rs",
                            datetime.now(UTC)).secret
        session.commit()
    engine.dispose()
    return secret


def _explain(url: str, day: datetime, clinician: UUID) -> None:
    """The plans of a day's search: the page (by date, and by date and practitioner) and the
    look-ups resources() makes for the page (external ids, names)."""
    engine = create_db_engine(url)
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN ANALYZE " if postgres else "EXPLAIN QUERY PLAN "
    low, high = day.replace(hour=0), day.replace(hour=0) + timedelta(days=1)
    page = select(Appointment).where(col(Appointment.start) >= low, col(Appointment.start) < high)
    queries: dict[str, Any] = {
        "date": page,
        "date+practitioner": page.where(col(Appointment.clinician_id) == clinician),
    }
    with Session(engine) as session:
        ids = [row.id for row in session.exec(page.limit(101))]
        queries["external ids of the page"] = select(AppointmentExternalId).where(
            col(AppointmentExternalId.appointment_id).in_(ids))
        for name, query in queries.items():
            if name.startswith("date"):
                query = query.order_by(col(Appointment.start), col(Appointment.id)).limit(101)
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = session.exec(text(prefix + sql)).all()  # type: ignore[call-overload]
            print(f"-- {name}")
            for line in plan:
                print("   ", " ".join(str(part) for part in line)[:160])
    engine.dispose()


def _searches(
    client: httpx.Client, days: list[datetime], practitioner: str | None
) -> list[float]:
    timings = []
    for day in days:
        params = {"date": day.date().isoformat(), "_count": "100"}
        if practitioner:
            params["practitioner"] = practitioner
        began = time.perf_counter()
        answer = client.get("/fhir/r4/Appointment", params=params)
        timings.append((time.perf_counter() - began) * 1000)
        answer.raise_for_status()
        bundle = answer.json()
        assert bundle["total"] == 100 and len(bundle["entry"]) == 100, bundle["total"]
    return timings


def _report(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(f"{label}: {len(ordered)} searches, p50 {statistics.median(ordered):.1f} ms, "
          f"p95 {p95:.1f} ms (target p95 <= 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    first_day = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    with server_harness.database(args.postgres) as url:
        seeded = server_harness.seed(url, args.appointments, 500, 1, first_day)
        secret = _client_secret(url)
        if args.explain:
            _explain(url, first_day, seeded.clinician)
        with server_harness.served(url) as base:
            token = httpx.post(
                f"{base}/fhir/r4/token",
                data={"grant_type": "client_credentials"},
                auth=("bench", secret),
                timeout=30,
            )
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            day_count = args.appointments // 100
            days = [first_day + timedelta(days=random.randrange(day_count))
                    for _ in range(args.searches)]
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                _searches(client, days[:10], None)  # warm up
                kind = "PostgreSQL" if args.postgres else "SQLite"
                _report(f"{kind} date", _searches(client, days, None))
                practitioner = f"Practitioner/{seeded.clinician}"
                _report(f"{kind} date+practitioner", _searches(client, days, practitioner))


if __name__ == "__main__":
    main()
