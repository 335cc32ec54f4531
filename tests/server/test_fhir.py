"""FHIR R4 round trips on SQLite and PostgreSQL, validated by fhir.resources' R4B models."""

from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.models.appointment import Appointment, AppointmentExternalId
from server.models.audit import AuditEvent
from server.models.patient import Patient
from server.models.sync import Change
from shared.enums import AppointmentStatus
from tests.server.conftest import TOMORROW_9, Clinic
from tests.server.fhir_helpers import client_secret, fhir_auth

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _booking(clinic: Clinic, hours: int = 5, **extra: Any) -> dict[str, Any]:
    start = TOMORROW_9 + timedelta(hours=hours)
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{clinic.ids['patient']}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{clinic.ids['ng']}"}, "status": "accepted"},
        ],
        "identifier": [{"system": "urn:pas", "value": "A-1"}],
        **extra,
    }


def _valid(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    """`data` once fhir.resources' R4B `model` accepts it."""
    model.model_validate(data)
    return data


def _outcome(answer: Any, status: int) -> OperationOutcome:
    assert answer.status_code == status, answer.text
    return OperationOutcome.model_validate(answer.json())


def test_metadata_is_a_capability_statement(client: TestClient) -> None:
    answer = client.get("/fhir/r4/metadata")
    assert answer.status_code == 200
    statement = _valid(CapabilityStatement, answer.json())
    kinds = {resource["type"] for resource in statement["rest"][0]["resource"]}
    assert kinds == {"Appointment", "Patient", "Practitioner"}


def test_appointment_round_trip(client: TestClient, engine: Engine, clinic: Clinic) -> None:
    auth = fhir_auth(client, engine)
    created = client.post("/fhir/r4/Appointment", json=_booking(clinic), headers=auth)
    assert created.status_code == 201, created.text
    resource = _valid(FhirAppointment, created.json())
    assert resource["meta"]["versionId"] == "1" and created.headers["ETag"] == 'W/"1"'
    assert resource["minutesDuration"] == 30 and resource["status"] == "booked"
    appointment_id = UUID(resource["id"])

    read = client.get(f"/fhir/r4/Appointment/{appointment_id}", headers=auth)
    assert _valid(FhirAppointment, read.json())["identifier"][0]["value"] == "A-1"

    day = client.get(
        "/fhir/r4/Appointment",
        params={"date": "2026-11-27", "practitioner": f"Practitioner/{clinic.ids['ng']}"},
        headers=auth,
    )
    bundle = _valid(Bundle, day.json())
    assert {entry["resource"]["id"] for entry in bundle["entry"]} == {
        str(clinic.ids["ng_appointment"]), str(appointment_id)
    }

    moved = read.json() | {"comment": "Bring the letter"}
    changed = client.put(
        f"/fhir/r4/Appointment/{appointment_id}", json=moved,
        headers=auth | {"If-Match": 'W/"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == 'W/"2"'
    assert _valid(FhirAppointment, changed.json())["comment"] == "Bring the letter"

    stale = client.put(
        f"/fhir/r4/Appointment/{appointment_id}", json=moved | {"comment": "other"},
        headers=auth | {"If-Match": 'W/"1"'},
    )
    _outcome(stale, 412)

    cancelled = client.put(
        f"/fhir/r4/Appointment/{appointment_id}",
        json=changed.json() | {"status": "cancelled", "cancelationReason": {"text": "Unwell"}},
        headers=auth | {"If-Match": 'W/"2"'},
    )
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    with Session(engine) as session:
        row = session.get(Appointment, appointment_id)
        assert row is not None and row.status == AppointmentStatus.CANCELLED
        assert row.cancel_reason == "Unwell" and row.invite_status == "not_invited"
        # Desktops hear of it through the change log; every read and write is audited.
        assert session.exec(select(Change).where(Change.entity_id == appointment_id)).first()
        actions = set(session.exec(
            select(AuditEvent.action).where(AuditEvent.entity_id == str(appointment_id))
        ))
    assert {"appointment.create", "appointment.read", "appointment.update",
            "appointment.cancel"} <= actions


def test_refusals_are_operation_outcomes(
    client: TestClient, engine: Engine, clinic: Clinic
) -> None:
    _outcome(client.get("/fhir/r4/Appointment"), 401)
    auth = fhir_auth(client, engine)
    _outcome(client.get("/fhir/r4/Appointment/nope", headers=auth), 404)
    _outcome(client.get("/fhir/r4/Appointment", params={"date": "soon"}, headers=auth), 400)
    _outcome(client.get("/fhir/r4/Appointment", params={"colour": "red"}, headers=auth), 400)
    bad = client.post("/fhir/r4/Appointment", content=b"{", headers=auth | FHIR_JSON)
    _outcome(bad, 400)
    not_r4 = _booking(clinic) | {"status": 7}
    _outcome(client.post("/fhir/r4/Appointment", json=not_r4, headers=auth), 400)
    overlapping = _booking(clinic, hours=0)  # ng's 09:00 appointment
    overlapping["identifier"] = []
    _outcome(client.post("/fhir/r4/Appointment", json=overlapping, headers=auth), 409)
    past = _booking(clinic, hours=-48)
    _outcome(client.post("/fhir/r4/Appointment", json=past, headers=auth), 422)
    epoch = _booking(clinic) | {"start": 0}  # 1970, ending in 2026: decades long
    epoch_answer = _outcome(client.post("/fhir/r4/Appointment", json=epoch, headers=auth), 422)
    assert "minutes" in str(epoch_answer.issue[0].diagnostics)
    for start in ("1800-01-01T09:00:00Z", "9999-12-31T23:00:00Z"):
        far = _booking(clinic) | {"start": start}
        far.pop("end")
        far["minutesDuration"] = 30
        _outcome(client.post("/fhir/r4/Appointment", json=far, headers=auth), 422)
    created = client.post("/fhir/r4/Appointment", json=_booking(clinic), headers=auth)
    again = _booking(clinic, hours=7)
    _outcome(client.post("/fhir/r4/Appointment", json=again, headers=auth), 409)
    assert created.status_code == 201


def test_scopes_are_enforced(client: TestClient, engine: Engine, clinic: Clinic) -> None:
    reader = fhir_auth(client, engine, "reader", "system/Appointment.rs")
    assert client.get("/fhir/r4/Appointment", headers=reader).status_code == 200
    _outcome(client.post("/fhir/r4/Appointment", json=_booking(clinic), headers=reader), 403)
    _outcome(client.get(f"/fhir/r4/Patient/{clinic.ids['patient']}", headers=reader), 403)
    secret = client_secret(engine, "narrow", "system/Appointment.rs")
    form = {"grant_type": "client_credentials", "client_id": "narrow", "client_secret": secret}
    wider = client.post("/fhir/r4/token", data=form | {"scope": "system/Appointment.cu"})
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    wrong = client.post("/fhir/r4/token", data=form | {"client_secret": "guess"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    staff = client.get("/fhir/r4/Appointment", headers=clinic.auth("admin"))
    _outcome(staff, 401)  # a desktop session is not a system client


def test_hl7_booked_appointment_is_the_same_record(
    client: TestClient, engine: Engine, clinic: Clinic
) -> None:
    appointment_id = clinic.ids["okafor_appointment"]
    with Session(engine) as session:
        session.add(AppointmentExternalId(
            appointment_id=appointment_id, system="hl7-filler", value="F100"
        ))
        session.commit()
    auth = fhir_auth(client, engine)
    found = client.get(
        "/fhir/r4/Appointment", params={"identifier": "hl7-filler|F100"}, headers=auth
    )
    bundle = _valid(Bundle, found.json())
    assert [entry["resource"]["id"] for entry in bundle["entry"]] == [str(appointment_id)]


def test_paging_and_people(client: TestClient, engine: Engine, clinic: Clinic) -> None:
    auth = fhir_auth(client, engine)
    first = client.get("/fhir/r4/Appointment", params={"_count": 2}, headers=auth).json()
    assert first["total"] == 3 and len(first["entry"]) == 2
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    rest = _valid(Bundle, client.get(following, headers=auth).json())
    seen = {e["resource"]["id"] for e in first["entry"] + rest["entry"]}
    assert len(seen) == 3
    patient = client.get(f"/fhir/r4/Patient/{clinic.ids['patient']}", headers=auth)
    assert _valid(FhirPatient, patient.json())["identifier"][0]["value"] == "MRN1"
    assert "assigner" not in patient.json()["identifier"][0]  # typed here, nobody vouches
    with Session(engine) as session:
        stored = session.get(Patient, clinic.ids["patient"])
        assert stored is not None
        stored.mrn_authority = "STMARYS"  # as the HL7 import registers it
        session.add(stored)
        session.commit()
    patient = client.get(f"/fhir/r4/Patient/{clinic.ids['patient']}", headers=auth)
    identifier = _valid(FhirPatient, patient.json())["identifier"][0]
    assert identifier["assigner"] == {"display": "STMARYS"}
    found = client.get("/fhir/r4/Practitioner", params={"identifier": "ng"}, headers=auth)
    entries = _valid(Bundle, found.json())["entry"]
    practitioner = _valid(FhirPractitioner, entries[0]["resource"])
    assert practitioner["id"] == str(clinic.ids["ng"])
    with Session(engine) as session:
        reads = session.exec(
            select(AuditEvent).where(col(AuditEvent.action) == "patient.read")
        ).all()
    assert reads
