"""Two clerks book the same clinician's slot at the same moment: exactly one wins.

Both requests are held at the point where the schedule has been read and the decision is about
to be made (a barrier after the overlap query). Without the lock both would read an empty slot
and both would book; with it the second request waits until the first has committed.
"""

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.services import booking
from tests.server.conftest import TOMORROW_9, Clinic


def _race(app: FastAPI, clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    barrier = threading.Barrier(2, timeout=1.5)
    original: Callable[..., Any] = booking._neighbours

    def held(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other request is (rightly) waiting for our lock
        return found

    monkeypatch.setattr(booking, "_neighbours", held)
    start: datetime = TOMORROW_9 + timedelta(hours=7)
    statuses: list[int] = []

    def book(clerk_start: datetime) -> None:
        body = {
            "patient_id": str(clinic.ids["patient"]),
            "clinician_id": str(clinic.ids["ng"]),
            "start": clerk_start.isoformat(),
            "duration_minutes": 30,
            "kind": "phone",
        }
        response = TestClient(app).post("/appointments", json=body, headers=clinic.auth("clerk"))
        statuses.append(response.status_code)

    # Overlapping, not identical: 16:00-16:30 and 16:15-16:45.
    threads = [
        threading.Thread(target=book, args=(start,)),
        threading.Thread(target=book, args=(start + timedelta(minutes=15),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(statuses)


def test_concurrent_bookings_of_one_slot_one_wins(
    app: FastAPI, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _race(app, clinic, monkeypatch) == [201, 409]


def test_without_the_lock_the_race_is_lost(
    app: FastAPI, clinic: Clinic, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """The harness itself can fail: with PostgreSQL's lock switched off, both requests win."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes every transaction (BEGIN IMMEDIATE): no lock to remove")
    monkeypatch.setattr(booking, "lock_schedules", lambda session, ids: None)
    assert _race(app, clinic, monkeypatch) == [201, 201]
