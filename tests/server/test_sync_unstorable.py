"""A mutation the database cannot store is that mutation's own rejection; the batch goes on.

On both databases: a NUL in a name (PostgreSQL cannot store it), a time past year 9999 (Python
overflows turning it into UTC), and a value the database itself refuses after every check passed
(a column narrowed under the server, a SQLite length limit): each is answered `rejected` with a
sentence, the mutations before and after it apply, and a repeat gets the same answers.
"""

import sqlite3
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from server.database import is_sqlite
from tests.server.api_helpers import Api
from tests.server.conftest import TOMORROW_9, Clinic
from tests.server.live_server import live
from tests.server.postgres import free_port
from tests.server.test_sync import Outbox, _booking


def _new_patient(outbox: Outbox, name: str) -> dict[str, Any]:
    return outbox.mutation("patient.upsert", {"name": name, "email": "ann@example.org"})


def _statuses(results: list[dict[str, Any]]) -> list[str]:
    return [r["status"] for r in results]


def test_a_nul_in_a_name_is_refused_alone(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    outbox = Outbox(api, "clerk")
    batch = [
        outbox.mutation("appointment.create", _booking(api, 2)),
        _new_patient(outbox, "Ann\x00e Smith"),
        _new_patient(outbox, "Bea Jones"),
        outbox.mutation("appointment.create", _booking(api, 3)),
    ]
    results = outbox.push(*batch)
    assert _statuses(results) == ["applied", "rejected", "applied", "applied"]
    refused = results[1]
    assert refused["reason"] == "invalid"
    assert refused["fields"][0]["field"] == "name"
    assert "control character" in refused["message"]
    assert outbox.push(*batch) == results  # the ledger answers a repeat the same way


def test_a_time_past_9999_is_refused_alone(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    outbox = Outbox(api, "clerk")
    too_late = _booking(api, 2) | {"start": "9999-12-31T23:00:00+00:00", "duration_minutes": 600}
    west = _booking(api, 2) | {"start": "9999-12-31T23:59:00-01:00"}
    early = _booking(api, 2) | {"start": "0001-01-01T00:00:00+01:00"}
    batch = [
        outbox.mutation("appointment.create", _booking(api, 2)),
        outbox.mutation("appointment.create", too_late),
        outbox.mutation("appointment.create", west),
        outbox.mutation("appointment.create", early),
        outbox.mutation("appointment.create", _booking(api, 3)),
    ]
    results = outbox.push(*batch)
    assert _statuses(results) == ["applied", "rejected", "rejected", "rejected", "applied"]
    assert {r["reason"] for r in results[1:4]} == {"invalid"}
    assert all("1900 and 9998" in r["message"] for r in results[1:4])


def _narrow_notes(engine: Engine) -> None:
    """Make the database refuse long notes that every check lets through (max 5000)."""
    if is_sqlite(engine):
        # SQLITE_TOOBIG: the pysqlite driver raises DataError, as PostgreSQL does below.
        engine.dispose()
        event.listen(engine, "connect", lambda connection, _record: connection.setlimit(
            sqlite3.SQLITE_LIMIT_LENGTH, 2000))
        return
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE appointment ALTER COLUMN notes TYPE varchar(1000)"))


def test_a_value_the_database_refuses_is_rejected_alone(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    api = Api(client, clinic)
    outbox = Outbox(api, "clerk")
    _narrow_notes(engine)
    batch = [
        outbox.mutation("appointment.create", _booking(api, 2)),
        outbox.mutation("appointment.create", _booking(api, 3) | {"notes": "n" * 3000}),
        outbox.mutation("appointment.create", _booking(api, 4)),
    ]
    results = outbox.push(*batch)
    assert _statuses(results) == ["applied", "rejected", "applied"]
    assert results[1]["code"] == "unstorable"
    assert results[1]["reason"] == "invalid"
    assert "cannot store this change" in results[1]["message"]
    assert outbox.push(*batch) == results
    day = api.call("clerk", "GET", f"/appointments?clinician_id={api.id('ng')}", expect=200)
    assert {a["id"] for a in day} >= {batch[0]["entity_id"], batch[2]["entity_id"]}
    assert batch[1]["entity_id"] not in {a["id"] for a in day}


def test_out_of_range_query_times_are_422_and_keep_the_connection(
    app: FastAPI, clinic: Clinic
) -> None:
    paths = [
        "/audit-events?since=0001-01-01T00:00:00%2B01:00",
        "/audit-events?until=9999-12-31T23:59:00-01:00",
        "/appointments?start_before=9999-12-31T23:59:00-01:00",
        "/appointments?start_from=0001-01-01T00:00:00%2B01:00",
    ]
    with live(app, free_port()) as base, httpx.Client(base_url=base) as http:
        ports = set()
        for path in paths:
            user = "admin" if path.startswith("/audit") else "clerk"
            response = http.get(path, headers=clinic.auth(user))
            ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
            assert response.status_code == 422, (path, response.text)
            assert response.json()["code"] == "invalid"
            assert "1900 and 9998" in response.text
        # One TCP connection served them all: none was dropped by an error.
        assert len(ports) == 1
        fine = http.get(f"/appointments?start_from={(TOMORROW_9 - timedelta(days=1)).isoformat()}"
                        .replace("+", "%2B"), headers=clinic.auth("clerk"))
        assert fine.status_code == 200
