"""Appointments over HTTP: the domain's rules, double booking, versions, scope and audit."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.models.audit import AuditEvent
from tests.server.api_helpers import Api
from tests.server.conftest import NOW, TOMORROW_9, Clinic


def _body(api: Api, **fields: Any) -> dict[str, Any]:
    return {
        "patient_id": str(api.id("patient")),
        "clinician_id": str(api.id("ng")),
        "start": (TOMORROW_9 + timedelta(hours=2)).isoformat(),
        "duration_minutes": 30,
        "kind": "video",
    } | fields


def test_book_read_and_list(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    participants = [{"name": f"Guest {n}", "email": f"g{n}@example.org"} for n in range(3)]
    created = api.call(
        "clerk",
        "POST",
        "/appointments",
        _body(
            api,
            kind="group",
            participants=participants,
            location_id=str(api.id("location")),
            external_ids={"hl7": "PL-1", "fhir": "Appointment/9"},
            notes="Bring the letter",
        ),
        expect=201,
    )
    assert created["status"] == "scheduled"
    assert created["version"] == 1
    assert created["participants"] == participants
    assert created["external_ids"] == {"hl7": "PL-1", "fhir": "Appointment/9"}
    assert created["start"].startswith("2026-11-27T11:00:00")
    assert created["updated_at"].startswith(NOW.isoformat()[:19])

    fetched = api.call("ng", "GET", f"/appointments/{created['id']}", expect=200)
    assert fetched == created
    day = api.call(
        "ng",
        "GET",
        "/appointments?start_from=2026-11-27T00:00:00Z&start_before=2026-11-28T00:00:00Z",
        expect=200,
    )
    starts = [row["start"][:16] for row in day]
    # Dr Ng's seeded 09:00, Dr Okafor's 10:00 (delegated to Ng), the new 11:00; not Dr Lee's.
    assert starts == ["2026-11-27T09:00", "2026-11-27T10:00", "2026-11-27T11:00"]
    second_page = api.call("ng", "GET", "/appointments?limit=2&offset=1", expect=200)
    assert [row["start"][:16] for row in second_page] == starts[1:]
    clerk_view = api.call("clerk", "GET", "/appointments", expect=200)
    assert {row["clinician_id"] for row in clerk_view} == {str(api.id("ng"))}


def test_domain_rules_answer_422_with_fields(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    past = api.call(
        "clerk", "POST", "/appointments", _body(api, start="2026-11-26T07:00:00Z"), expect=422
    )
    assert past["code"] == "invalid"
    assert [f["field"] for f in past["fields"]] == ["start"]
    assert "in the past" in past["fields"][0]["message"]

    too_many = [{"name": f"G{n}", "email": f"g{n}@example.org"} for n in range(51)]
    group = api.call(
        "clerk",
        "POST",
        "/appointments",
        _body(api, kind="group", participants=too_many),
        expect=422,
    )
    assert "at most 50 participants" in group["message"]

    long = api.call("clerk", "POST", "/appointments", _body(api, duration_minutes=481), expect=422)
    assert long["fields"] == [
        {"field": "duration", "message": "An appointment lasts at most 8 hours."}
    ]

    not_a_clinician = api.call(
        "clerk", "POST", "/appointments", _body(api, clinician_id=str(api.id("clerk"))), expect=403
    )
    assert not_a_clinician["code"] == "forbidden"


def test_bad_shapes_answer_422_without_echoing_input(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    naive = api.call(
        "clerk", "POST", "/appointments", _body(api, start="2026-11-27T11:00:00"), expect=422
    )
    assert naive["fields"][0]["field"] == "body.start"
    secret = "Patient-Name-Secret"
    answer = api.call("clerk", "POST", "/appointments", _body(api, kind=secret), expect=422)
    assert answer["fields"][0]["field"] == "body.kind"
    assert secret not in str(answer)
    unknown_patient = api.call(
        "clerk",
        "POST",
        "/appointments",
        _body(api, patient_id="00000000-0000-0000-0000-000000000009"),
        expect=422,
    )
    assert unknown_patient["fields"] == [
        {"field": "patient_id", "message": "This patient does not exist."}
    ]


def test_double_booking_is_refused_and_cancelling_frees_the_slot(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    # Dr Ng has 09:00-09:20 tomorrow; 09:10 overlaps.
    clash = _body(api, start=(TOMORROW_9 + timedelta(minutes=10)).isoformat(), duration_minutes=10)
    refused = api.call("clerk", "POST", "/appointments", clash, expect=409)
    assert refused["code"] == "double_booking"
    assert refused["fields"][0]["field"] == "start"
    assert "already has an appointment" in refused["message"]
    # Back to back is fine.
    api.call(
        "clerk",
        "POST",
        "/appointments",
        _body(api, start=(TOMORROW_9 + timedelta(minutes=20)).isoformat(), duration_minutes=5),
        expect=201,
    )
    seeded = api.call("clerk", "GET", f"/appointments/{api.id('ng_appointment')}", expect=200)
    cancelled = api.call(
        "clerk",
        "POST",
        f"/appointments/{seeded['id']}/cancel",
        {"reason": "Patient rang", "base_version": 1},
        expect=200,
    )
    assert (cancelled["status"], cancelled["cancel_reason"], cancelled["version"]) == (
        "cancelled",
        "Patient rang",
        2,
    )
    api.call("clerk", "POST", "/appointments", clash, expect=201)
    again = api.call(
        "clerk",
        "POST",
        f"/appointments/{seeded['id']}/cancel",
        {"reason": "x", "base_version": 2},
        expect=409,
    )
    assert again["code"] == "not_cancellable"


def test_update_checks_version_and_schedule(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    booked = api.call("clerk", "POST", "/appointments", _body(api), expect=201)
    path = f"/appointments/{booked['id']}"
    moved = api.call(
        "clerk",
        "PATCH",
        path,
        {"start": (TOMORROW_9 + timedelta(hours=3)).isoformat(), "base_version": 1},
        expect=200,
    )
    assert moved["version"] == 2
    assert moved["start"].startswith("2026-11-27T12:00")
    # Based on version 1, but only the start changed since: the notes edit merges.
    merged = api.call("ng", "PATCH", path, {"notes": "x", "base_version": 1}, expect=200)
    assert (merged["notes"], merged["start"][:16], merged["version"]) == (
        "x",
        "2026-11-27T12:00",
        3,
    )
    # Based on version 1 and the start changed since: a conflict, and it says so.
    later = (TOMORROW_9 + timedelta(hours=4)).isoformat()
    stale = api.call("clerk", "PATCH", path, {"start": later, "base_version": 1}, expect=409)
    assert stale["code"] == "stale_version"
    assert "start changed since" in stale["message"]
    ahead = api.call("clerk", "PATCH", path, {"notes": "y", "base_version": 9}, expect=409)
    assert ahead["code"] == "stale_version"
    onto_seeded = api.call(
        "clerk", "PATCH", path, {"start": TOMORROW_9.isoformat(), "base_version": 3}, expect=409
    )
    assert onto_seeded["code"] == "double_booking"
    # Changing only the notes of itself is no clash with itself.
    api.call("ng", "PATCH", path, {"notes": "ok", "base_version": 3}, expect=200)
    duplicate = api.call(
        "clerk",
        "POST",
        "/appointments",
        _body(api, start=(TOMORROW_9 + timedelta(hours=5)).isoformat(), external_ids={"hl7": "A"}),
        expect=201,
    )
    assert duplicate["external_ids"] == {"hl7": "A"}
    twice = api.call(
        "clerk",
        "POST",
        "/appointments",
        _body(api, start=(TOMORROW_9 + timedelta(hours=6)).isoformat(), external_ids={"hl7": "A"}),
        expect=409,
    )
    assert twice["code"] == "duplicate_external_id"


def test_reads_and_changes_are_audited(client: TestClient, clinic: Clinic, engine: Engine) -> None:
    api = Api(client, clinic)
    booked = api.call("clerk", "POST", "/appointments", _body(api), expect=201)
    api.call("ng", "GET", f"/appointments/{booked['id']}", expect=200)
    api.call("ng", "GET", f"/patients/{api.id('patient')}", expect=200)
    with Session(engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.actor_id).is_not(None))
            .order_by(col(AuditEvent.id))
        ).all()
        seen = [(e.action, e.entity_id, e.actor_id, e.address) for e in events]
    assert seen == [
        ("appointment.create", booked["id"], api.id("clerk"), "testclient"),
        ("appointment.read", booked["id"], api.id("ng"), "testclient"),
        ("patient.read", str(api.id("patient")), api.id("ng"), "testclient"),
    ]
    audit = api.call("admin", "GET", f"/audit-events?entity_id={booked['id']}", expect=200)
    assert [row["action"] for row in audit] == ["appointment.create", "appointment.read"]
    assert all(row["at"].startswith("2026-11-26T08:00:00") for row in audit)


def test_double_booking_message_reads_the_clinic_clock(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    location = str(api.id("location"))
    api.call("admin", "PATCH", f"/locations/{location}", {"time_zone": "Asia/Kolkata"}, expect=200)
    clash = _body(
        api, start=(TOMORROW_9 + timedelta(minutes=10)).isoformat(), duration_minutes=10,
        location_id=location,
    )
    refused = api.call("clerk", "POST", "/appointments", clash, expect=409)
    # Dr Ng's 09:00-09:20 UTC booking, read in Kolkata (UTC+05:30).
    assert "14:30–14:50" in refused["message"], refused["message"]
