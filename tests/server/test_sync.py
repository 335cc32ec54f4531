"""The sync protocol: push exactly once, answers per mutation; pull by cursor with tombstones."""

import threading
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from server.models.appointment import Appointment
from server.models.sync import ClientMutation
from tests.server.api_helpers import Api
from tests.server.conftest import TOMORROW_9, Clinic


class Outbox:
    """What the desktop's outbox would send: mutations with ids and a running sequence."""

    def __init__(self, api: Api, user: str) -> None:
        self.api = api
        self.user = user
        self.client_id = uuid4()
        self.seq = 0

    def mutation(
        self,
        intent: str,
        payload: dict[str, Any],
        entity_id: UUID | None = None,
        base: int | None = None,
    ) -> dict[str, Any]:
        self.seq += 1
        return {
            "id": str(uuid4()),
            "seq": self.seq,
            "intent": intent,
            "entity_id": str(entity_id or uuid4()),
            "base_version": base,
            "payload": payload,
        }

    def push(self, *mutations: dict[str, Any], expect: int = 200) -> list[dict[str, Any]]:
        body = {"protocol": 1, "client_id": str(self.client_id), "mutations": list(mutations)}
        answer = self.api.call(self.user, "POST", "/sync/push", body, expect=expect)
        results: list[dict[str, Any]] = answer["results"] if expect == 200 else answer
        return results


def _booking(api: Api, hour: int, minutes: int = 30) -> dict[str, Any]:
    return {
        "patient_id": str(api.id("patient")),
        "clinician_id": str(api.id("ng")),
        "start": (TOMORROW_9 + timedelta(hours=hour)).isoformat(),
        "duration_minutes": minutes,
        "kind": "video",
    }


def _pull(api: Api, user: str, cursor: int, limit: int = 500) -> dict[str, Any]:
    answer: dict[str, Any] = api.call(
        user, "GET", f"/sync/pull?protocol=1&cursor={cursor}&limit={limit}", expect=200
    )
    return answer


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_repeated_push_is_answered_without_a_second_effect(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    api = Api(client, clinic)
    outbox = Outbox(api, "clerk")
    appointment_id = uuid4()
    create = outbox.mutation("appointment.create", _booking(api, 2), appointment_id)
    first = outbox.push(create)
    assert first == [
        {
            "id": create["id"],
            "status": "applied",
            "entity_id": str(appointment_id),
            "version": 1,
            "reason": None,
            "code": None,
            "message": "",
            "fields": [],
        }
    ]
    before = _count(engine, Appointment)
    assert outbox.push(create) == first  # the network dropped the answer: the client repeats
    assert _count(engine, Appointment) == before
    assert _count(engine, ClientMutation) == 1
    stored = api.call("clerk", "GET", f"/appointments/{appointment_id}", expect=200)
    assert stored["version"] == 1


def test_a_rejection_does_not_block_the_rest(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    outbox = Outbox(api, "clerk")
    clash = outbox.mutation("appointment.create", _booking(api, 0, 15))  # Dr Ng has 09:00
    fine = outbox.mutation("appointment.create", _booking(api, 3))
    stale = outbox.mutation("appointment.update", {"notes": "x"}, api.id("ng_appointment"), base=7)
    foreign = outbox.mutation(
        "appointment.cancel", {"reason": "x"}, api.id("lee_appointment"), base=1
    )
    broken = outbox.mutation("patient.upsert", {"name": ""})
    cancel = outbox.mutation(
        "appointment.cancel", {"reason": "Patient rang"}, api.id("ng_appointment"), base=1
    )
    results = outbox.push(clash, fine, stale, foreign, broken, cancel)
    summary = [(r["status"], r["reason"], r["version"]) for r in results]
    assert summary == [
        ("rejected", "double_booking", None),
        ("applied", None, 1),
        ("rejected", "stale_version", None),
        ("rejected", "forbidden", None),
        ("rejected", "invalid", None),
        ("applied", None, 2),
    ]
    assert "already has an appointment" in results[0]["message"]
    assert results[4]["fields"][0]["field"] == "name"
    # Rejections are answers too: repeating them repeats the answer, even though the slot
    # the first one wanted is free now (the 09:00 was cancelled by the last mutation).
    assert outbox.push(clash)[0]["reason"] == "double_booking"


def test_sequence_numbers_and_protocol_are_checked(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    outbox = Outbox(api, "ng")
    first = outbox.mutation("patient.upsert", {"name": "Bo"})
    outbox.push(first)
    reused = dict(outbox.mutation("patient.upsert", {"name": "Cy"}), seq=first["seq"])
    answer = outbox.push(reused)[0]
    assert (answer["status"], answer["code"]) == ("rejected", "seq_reused")
    old = api.call(
        "ng",
        "POST",
        "/sync/push",
        {"protocol": 99, "client_id": str(uuid4()), "mutations": []},
        expect=400,
    )
    assert old["code"] == "unsupported_protocol"
    assert "your unsent changes are kept" in old["message"]
    api.call("ng", "GET", "/sync/pull?protocol=0", expect=400)
    other = Outbox(api, "clerk")
    stolen = other.push(first)[0]  # someone else's mutation id
    assert (stolen["status"], stolen["reason"]) == ("rejected", "forbidden")


def test_upserts_create_then_update_with_versions(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    outbox = Outbox(api, "clerk")
    patient_id = uuid4()
    made = outbox.push(outbox.mutation("patient.upsert", {"name": "Bo", "mrn": "M9"}, patient_id))
    assert made[0]["version"] == 1
    fixed = outbox.push(
        outbox.mutation("patient.upsert", {"name": "Bo Diddley", "mrn": "M9"}, patient_id, base=1)
    )
    assert fixed[0]["version"] == 2
    assert api.call("clerk", "GET", f"/patients/{patient_id}", expect=200)["name"] == "Bo Diddley"
    task_id = uuid4()
    task = {"assignee_id": str(api.id("ng")), "text": "Ring"}
    assert outbox.push(outbox.mutation("task.upsert", task, task_id))[0]["version"] == 1
    done = outbox.push(outbox.mutation("task.upsert", task | {"done": True}, task_id, base=1))
    assert done[0]["version"] == 2


def test_pull_pages_by_cursor_in_the_users_scope(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    first = _pull(api, "ng", 0)
    seen = {(c["type"], c["id"]) for c in first["changes"]}
    # Dr Ng sees their own and Dr Okafor's (delegated) appointments, never Dr Lee's.
    assert seen == {
        ("appointment", str(api.id("ng_appointment"))),
        ("appointment", str(api.id("okafor_appointment"))),
        ("patient", str(api.id("patient"))),
    }
    assert first["has_more"] is False
    assert first["server_time"].startswith("2026-11-26T08:00:00")
    ng = next(c for c in first["changes"] if c["id"] == str(api.id("ng_appointment")))
    assert ng["data"]["version"] == 1 and ng["deleted"] is False
    assert _pull(api, "ng", first["cursor"])["changes"] == []

    # The clerk sees only Dr Ng's schedule.
    clerk = _pull(api, "clerk", 0)
    assert {c["id"] for c in clerk["changes"] if c["type"] == "appointment"} == {
        str(api.id("ng_appointment"))
    }

    booked = api.book("clerk", "ng")
    after = _pull(api, "ng", first["cursor"])
    assert [(c["type"], c["id"]) for c in after["changes"]] == [("appointment", booked["id"])]
    assert after["cursor"] > first["cursor"]

    pages: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = _pull(api, "ng", cursor, limit=1)
        pages.append(page)
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    paged = [c["id"] for page in pages for c in page["changes"]]
    assert len(paged) == len(set(paged)) == 4
    assert cursor == after["cursor"]


def test_pull_gives_tombstones_when_records_leave_the_view(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    cursor = _pull(api, "ng", 0)["cursor"]
    api.call(
        "admin",
        "POST",
        "/assignments",
        {"clerk_id": str(api.id("clerk")), "clinician_id": str(api.id("lee"))},
        expect=201,
    )
    moved = api.call(
        "clerk",
        "PATCH",
        f"/appointments/{api.id('ng_appointment')}",
        {"clinician_id": str(api.id("lee")), "base_version": 1},
        expect=200,
    )
    assert moved["clinician_id"] == str(api.id("lee"))
    task = api.call(
        "clerk", "POST", "/tasks", {"assignee_id": str(api.id("ng")), "text": "x"}, expect=201
    )
    api.call(
        "clerk",
        "PATCH",
        f"/tasks/{task['id']}",
        {"assignee_id": str(api.id("okafor")), "base_version": 1},
        expect=200,
    )
    changes = _pull(api, "ng", cursor)["changes"]
    assert [(c["type"], c["id"], c["deleted"], c["data"]) for c in changes] == [
        ("appointment", str(api.id("ng_appointment")), True, None),
        ("task", task["id"], True, None),
    ]
    lee = _pull(api, "lee", 0)["changes"]
    mine = [c for c in lee if c["id"] == str(api.id("ng_appointment"))]
    assert mine[0]["data"]["clinician_id"] == str(api.id("lee"))


def test_the_same_mutation_pushed_twice_at_once_applies_once(
    app: FastAPI, clinic: Clinic, engine: Engine
) -> None:
    api = Api(TestClient(app), clinic)
    outbox = Outbox(api, "clerk")
    create = outbox.mutation("appointment.create", _booking(api, 5))
    body = {"protocol": 1, "client_id": str(outbox.client_id), "mutations": [create]}
    answers: list[Any] = []
    start = threading.Barrier(2)

    def push() -> None:
        start.wait()
        response = TestClient(app).post("/sync/push", json=body, headers=clinic.auth("clerk"))
        answers.append(response.json())

    threads = [threading.Thread(target=push) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2
    assert answers[0] == answers[1]
    assert answers[0]["results"][0]["status"] == "applied"
    assert _count(engine, ClientMutation) == 1
    with Session(engine) as session:
        assert session.get(Appointment, UUID(create["entity_id"])) is not None


def test_stale_edits_merge_unless_both_sides_changed_a_field(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    desk_a, desk_b = Outbox(api, "clerk"), Outbox(api, "ng")
    patient = api.id("patient")
    phone = desk_a.push(desk_a.mutation("patient.upsert", {"phone": "+44 1"}, patient, base=1))
    assert phone[0]["version"] == 2
    # Desk B worked offline on version 1 and changed only the email: no conflict.
    email = desk_b.push(desk_b.mutation("patient.upsert", {"email": "b@x.org"}, patient, base=1))
    assert (email[0]["status"], email[0]["version"]) == ("applied", 3)
    # Desk B also changed the phone on version 1: desk A changed it too, so it is refused.
    clash = desk_b.push(desk_b.mutation("patient.upsert", {"phone": "+44 2"}, patient, base=1))
    assert (clash[0]["status"], clash[0]["reason"]) == ("rejected", "stale_version")
    assert "phone changed since" in clash[0]["message"]
    stored = api.call("ng", "GET", f"/patients/{patient}", expect=200)
    assert (stored["phone"], stored["email"], stored["version"]) == ("+44 1", "b@x.org", 3)

    # Cancelling (status) and correcting the notes of one appointment do not collide.
    appointment = api.id("ng_appointment")
    notes = desk_a.push(
        desk_a.mutation("appointment.update", {"notes": "Interpreter"}, appointment, base=1)
    )
    assert notes[0]["version"] == 2
    cancel = desk_b.push(
        desk_b.mutation("appointment.cancel", {"reason": "Ill"}, appointment, base=1)
    )
    assert (cancel[0]["status"], cancel[0]["version"]) == ("applied", 3)


def test_a_change_of_access_changes_the_scope(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    before = _pull(api, "clerk", 0)
    assert _pull(api, "clerk", before["cursor"])["scope"] == before["scope"]
    api.call(
        "admin",
        "POST",
        "/assignments",
        {"clerk_id": str(api.id("clerk")), "clinician_id": str(api.id("lee"))},
        expect=201,
    )
    # No new change, but the clerk now sees Dr Lee's schedule: the scope says so, and a pull
    # from 0 brings Dr Lee's older appointment.
    after = _pull(api, "clerk", before["cursor"])
    assert after["changes"] == []
    assert after["scope"] != before["scope"]
    again = _pull(api, "clerk", 0)
    assert str(api.id("lee_appointment")) in {c["id"] for c in again["changes"]}
    assert again["scope"] == after["scope"]
