"""Many pushes at once: nothing lost or doubled, and a puller meanwhile misses no change.

Also what makes a push commit once: the change log appended at commit (rows noted in a
rolled-back savepoint vanish with it), and a lock cycle broken by the database retried.
"""

import threading
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from server.models.access import Delegation
from server.models.appointment import Appointment
from server.models.sync import Change, ClientMutation
from server.realtime import notify
from server.services import changes, sync_push
from tests.polling import wait_until
from tests.server.conftest import NOW, TOMORROW_9, Clinic

PUSHERS = ["clerk", "clerk", "ng", "ng", "okafor", "lee"]
ROUNDS = 3


def _mutations(api_ids: dict[str, UUID], pusher: int, number: int) -> list[dict[str, Any]]:
    """A booking for ng or the pusher's own clinician, a new patient, then an edit of it."""
    clinician = "ng" if PUSHERS[pusher] in ("clerk", "ng") else PUSHERS[pusher]
    start = TOMORROW_9 + timedelta(days=1 + number, minutes=20 * pusher)
    patient = uuid4()
    booking = {
        "patient_id": str(api_ids["patient"]), "clinician_id": str(api_ids[clinician]),
        "start": start.isoformat(), "duration_minutes": 15, "kind": "video",
    }
    base = number * 3
    return [
        {"id": str(uuid4()), "seq": base + 1, "intent": "appointment.create",
         "entity_id": str(uuid4()), "base_version": None, "payload": booking},
        {"id": str(uuid4()), "seq": base + 2, "intent": "patient.upsert",
         "entity_id": str(patient), "base_version": None,
         "payload": {"name": f"Storm {pusher}-{number}"}},
        {"id": str(uuid4()), "seq": base + 3, "intent": "patient.upsert",
         "entity_id": str(patient), "base_version": 1, "payload": {"phone": "+441234567890"}},
    ]


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _visible_to_ng(engine: Engine, after: int, ng: UUID) -> list[Change]:
    with Session(engine) as session:
        owners = list(session.exec(select(Delegation.owner_id).where(Delegation.delegate_id == ng)))
        scopes = [ng, *owners]
        rows = session.exec(
            select(Change).where(
                col(Change.seq) > after,
                (col(Change.scope_id).in_(scopes)) | (col(Change.scope_id).is_(None)),
            )
        )
        return list(rows)


def test_concurrent_pushes_lose_nothing_and_a_puller_misses_no_change(
    app: FastAPI, clinic: Clinic, engine: Engine
) -> None:
    appointments_before = _count(engine, Appointment)
    start = threading.Barrier(2 * len(PUSHERS) + 1, timeout=60)
    answers: dict[str, list[dict[str, Any]]] = {}
    failures: list[str] = []
    done = threading.Event()
    pulled: list[dict[str, Any]] = []
    first_cursor: list[int] = []

    def pusher(number: int) -> None:
        user = PUSHERS[number]
        client = TestClient(app)
        start.wait()
        for round_number in range(ROUNDS):
            body = {"protocol": 1, "client_id": client_ids[number],
                    "mutations": batches[number][round_number]}
            response = client.post("/sync/push", json=body, headers=clinic.auth(user))
            if response.status_code != 200:
                failures.append(f"{user}: {response.status_code} {response.text[:200]}")
                continue
            for result in response.json()["results"]:
                answers.setdefault(result["id"], []).append(result)

    def puller() -> None:
        client = TestClient(app)
        cursor = client.get("/sync/pull?protocol=1&cursor=0&limit=1000",
                            headers=clinic.auth("ng")).json()["head"]
        first_cursor.append(cursor)
        start.wait()
        while True:
            last = done.is_set()
            page = client.get(f"/sync/pull?protocol=1&cursor={cursor}&limit=7",
                              headers=clinic.auth("ng")).json()
            for change in page["changes"]:
                assert change["seq"] > cursor, "a pull went back behind its cursor"
            pulled.extend(page["changes"])
            cursor = page["cursor"]
            if last and not page["has_more"]:
                return

    batches = [[_mutations(clinic.ids, p, n) for n in range(ROUNDS)] for p in range(len(PUSHERS))]
    client_ids = [str(uuid4()) for _ in PUSHERS]
    # Each desktop's pushes go twice at once, like a desktop retrying answers it lost.
    threads = [threading.Thread(target=pusher, args=(p,)) for p in list(range(len(PUSHERS))) * 2]
    reader = threading.Thread(target=puller)
    for thread in [*threads, reader]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    reader.join(timeout=120)
    assert not reader.is_alive() and not any(t.is_alive() for t in threads)

    assert failures == []
    mutations = [m for batch in batches for pushes in batch for m in pushes]
    assert len(answers) == len(mutations)
    for mutation in mutations:
        given = answers[mutation["id"]]
        assert len(given) == 2
        assert given[0] == given[1], "a repeat got another answer"
        assert given[0]["status"] == "applied", given[0]
    # Exactly once: one ledger row per mutation, one appointment per booking.
    assert _count(engine, ClientMutation) == len(mutations)
    bookings = [m for m in mutations if m["intent"] == "appointment.create"]
    assert _count(engine, Appointment) == appointments_before + len(bookings)

    # The puller saw each sequence number once, and no change behind its back: every change
    # row ng may see came to it at that row's number or later.
    seqs = [change["seq"] for change in pulled]
    assert len(seqs) == len(set(seqs))
    latest: dict[str, int] = {}
    for change in pulled:
        latest[change["id"]] = max(latest.get(change["id"], 0), change["seq"])
    for row in _visible_to_ng(engine, first_cursor[0], clinic.ids["ng"]):
        assert latest.get(str(row.entity_id), 0) >= (row.seq or 0), f"change {row.seq} skipped"
    seen_by_ng = {
        m["entity_id"]
        for number, batch in enumerate(batches)
        for pushes in batch
        for m in pushes
        if PUSHERS[number] != "lee"  # lee's schedule is lee's alone
    }
    assert seen_by_ng <= set(latest)


def test_change_rows_of_a_rolled_back_savepoint_are_not_appended(engine: Engine) -> None:
    kept, dropped, undone = uuid4(), uuid4(), uuid4()
    with Session(engine) as session:
        before = changes.head(session)
        changes.record(session, "patient", kept, [None], NOW)
        with pytest.raises(ValueError), session.begin_nested():
            changes.record(session, "patient", dropped, [None], NOW)
            raise ValueError("refused")
        with session.begin_nested():
            changes.record(session, "patient", kept, [None], NOW)  # noted twice: one row
        assert changes.pending(session) == 2
        session.commit()
        rows = session.exec(select(Change).where(col(Change.seq) > before)).all()
        assert [row.entity_id for row in rows] == [kept]
        changes.record(session, "patient", undone, [None], NOW)
        session.rollback()
        assert changes.pending(session) == 0
        session.commit()
        assert changes.head(session) == rows[0].seq


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_a_lock_cycle_commits_what_is_done_and_tries_again(
    client: TestClient, clinic: Clinic, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = sync_push._apply
    calls: list[str] = []

    def cycle_once(session: Session, caller: Any, mutation: Any) -> int:
        calls.append(str(mutation.id))
        if len(calls) == 2:
            raise OperationalError("SELECT pg_advisory_xact_lock(1)", {}, _Deadlock())
        return original(session, caller, mutation)

    monkeypatch.setattr(sync_push, "_apply", cycle_once)
    batch = _mutations(clinic.ids, 0, 0)
    body = {"protocol": 1, "client_id": str(uuid4()), "mutations": batch}
    answer = client.post("/sync/push", json=body, headers=clinic.auth("clerk"))
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["applied"] * 3
    assert calls == [batch[0]["id"], batch[1]["id"], batch[1]["id"], batch[2]["id"]]
    assert _count(engine, ClientMutation) == 3


def test_a_change_that_commits_late_is_not_skipped_by_a_pull(
    client: TestClient, clinic: Clinic, engine: Engine, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A has its sequence number but has not committed; B writes after it. A pull meanwhile
    must not move its cursor past A's number (B waits for A's commit, on the log's lock)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes whole transactions (BEGIN IMMEDIATE)")
    cursor = client.get("/sync/pull?protocol=1&cursor=0&limit=1000",
                        headers=clinic.auth("ng")).json()["head"]
    late, early = uuid4(), uuid4()
    inserted, release = threading.Event(), threading.Event()
    written = notify.changes_written

    def hold_before_commit(session: Any, newest: int) -> None:
        written(session, newest)
        if threading.current_thread().name == "late":
            inserted.set()
            release.wait(timeout=60)

    monkeypatch.setattr(notify, "changes_written", hold_before_commit)
    pids: dict[str, int] = {}

    def write(entity: UUID) -> None:
        with Session(engine) as session:
            pids[threading.current_thread().name] = session.exec(
                select(func.pg_backend_pid())).one()
            changes.record(session, "patient", entity, [None], NOW)
            session.commit()

    a = threading.Thread(target=write, args=(late,), name="late")
    a.start()
    assert inserted.wait(timeout=60)
    b = threading.Thread(target=write, args=(early,), name="early")
    b.start()

    def b_done_or_waiting() -> bool:
        if not b.is_alive():
            return True
        with Session(engine) as probe:
            waiting = probe.exec(select(func.count()).select_from(text("pg_stat_activity"))
                                 .where(text("wait_event_type = 'Lock' AND pid = :pid"))
                                 .params(pid=pids.get("early", -1))).one()
        return bool(waiting)

    wait_until(b_done_or_waiting, what="the second writer committed or waits for the lock")
    page = client.get(f"/sync/pull?protocol=1&cursor={cursor}&limit=1000",
                      headers=clinic.auth("ng")).json()
    release.set()
    a.join(timeout=60)
    b.join(timeout=60)
    rest = client.get(f"/sync/pull?protocol=1&cursor={page['cursor']}&limit=1000",
                      headers=clinic.auth("ng")).json()
    seen = {change["id"] for change in page["changes"] + rest["changes"]}
    assert {str(late), str(early)} <= seen


def test_a_lock_cycle_that_keeps_coming_fails_the_push_and_keeps_what_was_done(
    app: FastAPI, clinic: Clinic, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = sync_push._apply
    batch = _mutations(clinic.ids, 0, 0)

    def always_on_the_second(session: Session, caller: Any, mutation: Any) -> int:
        if str(mutation.id) == batch[1]["id"]:
            raise OperationalError("SELECT pg_advisory_xact_lock(1)", {}, _Deadlock())
        return original(session, caller, mutation)

    monkeypatch.setattr(sync_push, "_apply", always_on_the_second)
    body = {"protocol": 1, "client_id": str(uuid4()), "mutations": batch}
    client = TestClient(app, raise_server_exceptions=False)
    answer = client.post("/sync/push", json=body, headers=clinic.auth("clerk"))
    assert answer.status_code == 500
    with Session(engine) as session:
        stored = set(session.exec(select(ClientMutation.id)))
    assert stored == {UUID(batch[0]["id"])}  # the retry gets its answer from the ledger
    monkeypatch.setattr(sync_push, "_apply", original)
    again = client.post("/sync/push", json=body, headers=clinic.auth("clerk"))
    assert [r["status"] for r in again.json()["results"]] == ["applied"] * 3
    assert _count(engine, ClientMutation) == 3
