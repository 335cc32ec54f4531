"""Patients and tasks over HTTP: search, versions, ownership, audit of every patient read."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.models.audit import AuditEvent
from tests.server.api_helpers import Api
from tests.server.conftest import Clinic


def test_register_search_and_correct_a_patient(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    created = api.call(
        "clerk",
        "POST",
        "/patients",
        {"name": "Alan Turing", "mrn": "MRN2", "date_of_birth": "1912-06-23", "email": "a@t.org"},
        expect=201,
    )
    assert created["version"] == 1
    by_name = api.call("ng", "GET", "/patients?q=TURING", expect=200)
    assert [p["id"] for p in by_name] == [created["id"]]
    by_mrn = api.call("ng", "GET", "/patients?q=MRN2", expect=200)
    assert [p["name"] for p in by_mrn] == ["Alan Turing"]
    everyone = api.call("ng", "GET", "/patients", expect=200)
    assert [p["name"] for p in everyone] == ["Ada Lovelace", "Alan Turing"]

    path = f"/patients/{created['id']}"
    fixed = api.call(
        "clerk", "PATCH", path, {"phone": "+44 1", "date_of_birth": None, "base_version": 1}, 200
    )
    assert (fixed["phone"], fixed["date_of_birth"], fixed["version"]) == ("+44 1", None, 2)
    assert fixed["email"] == "a@t.org"
    stale = api.call("ng", "PATCH", path, {"phone": "x", "base_version": 1}, expect=409)
    assert stale["code"] == "stale_version"
    missing = api.call("ng", "GET", "/patients/00000000-0000-0000-0000-000000000001", expect=404)
    assert missing == {"code": "not_found", "message": "Patient not found.", "fields": []}


def test_every_patient_shown_is_audited(client: TestClient, clinic: Clinic, engine: Engine) -> None:
    api = Api(client, clinic)
    second = api.call("clerk", "POST", "/patients", {"name": "Ada Byron"}, expect=201)
    api.call("ng", "GET", "/patients?q=ada", expect=200)
    with Session(engine) as session:
        reads = session.exec(select(AuditEvent).where(AuditEvent.action == "patient.read")).all()
    assert sorted(e.entity_id for e in reads) == sorted([str(api.id("patient")), second["id"]])
    assert {e.actor_id for e in reads} == {api.id("ng")}


def test_bad_patient_input(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    empty = api.call("clerk", "POST", "/patients", {"name": ""}, expect=422)
    assert empty["fields"][0]["field"] == "body.name"
    long = api.call("clerk", "POST", "/patients", {"name": "x" * 201}, expect=422)
    assert long["code"] == "invalid"
    api.call("clerk", "GET", "/patients?limit=0", expect=422)


def test_tasks_belong_to_assignee_and_creator(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    body = {
        "assignee_id": str(api.id("ng")),
        "text": "Write to the GP",
        "due_date": "2026-11-30",
        "appointment_id": str(api.id("ng_appointment")),
    }
    task = api.call("clerk", "POST", "/tasks", body, expect=201)
    assert (task["done"], task["version"], task["created_by_id"]) == (
        False,
        1,
        str(api.id("clerk")),
    )
    assert [t["id"] for t in api.call("ng", "GET", "/tasks", expect=200)] == [task["id"]]
    assert api.call("okafor", "GET", "/tasks", expect=200) == []
    done = api.call(
        "ng", "PATCH", f"/tasks/{task['id']}", {"done": True, "base_version": 1}, expect=200
    )
    assert (done["done"], done["version"]) == (True, 2)
    assert api.call("clerk", "GET", "/tasks?done=false", expect=200) == []
    to_admin = api.call(
        "clerk", "POST", "/tasks", body | {"assignee_id": str(api.id("admin"))}, 422
    )
    assert to_admin["fields"][0]["field"] == "assignee_id"
    # Dr Lee's appointment is not the clerk's to see, so no task may point at it.
    foreign = body | {"appointment_id": str(api.id("lee_appointment"))}
    api.call("clerk", "POST", "/tasks", foreign, expect=403)
