"""Validation of appointment drafts (shared/validation.py)."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind, AppointmentStatus, Role
from shared.records import Appointment, Participant, Patient, StaffMember
from shared.validation import validate_appointment

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
DOCTOR = StaffMember(uuid.uuid4(), "Dr Ng", Role.CLINICIAN)


def draft(**changes: object) -> AppointmentDraft:
    base = AppointmentDraft(
        patient=PatientDraft("Ann Lee", email="ann@example.org"),
        clinician_id=DOCTOR.id,
        start=NOW + timedelta(hours=2),
        duration_minutes=20,
        kind=AppointmentKind.VIDEO,
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def fields(d: AppointmentDraft, others: list[Appointment] | None = None) -> dict[str, str]:
    return {e.field: e.message for e in validate_appointment(d, others or [], NOW)}


def test_a_good_draft_passes() -> None:
    assert fields(draft()) == {}


def test_each_rule_names_its_field() -> None:
    assert fields(draft(patient=PatientDraft("  ", email="a@b.org"))) == {
        "patient.name": "Enter the patient's name."
    }
    assert "patient.email" in fields(draft(patient=PatientDraft("Ann")))
    assert "patient.email" in fields(draft(patient=PatientDraft("Ann", email="not-an-email")))
    assert "start" in fields(draft(start=NOW - timedelta(minutes=1)))
    assert "duration" in fields(draft(duration_minutes=0))
    assert "clinician" in fields(draft(clinician_id=None))
    phone = draft(kind=AppointmentKind.PHONE, patient=PatientDraft("Ann"))
    assert "patient.phone" in fields(phone)


def test_group_limits_participants() -> None:
    many = [Participant(f"P {n}", f"p{n}@example.org") for n in range(51)]
    errors = fields(draft(kind=AppointmentKind.GROUP, participants=many))
    assert errors["participants"].startswith("A group appointment holds at most 50")
    assert fields(draft(kind=AppointmentKind.GROUP, participants=many[:50])) == {}


def test_overlap_with_the_same_clinician_only() -> None:
    existing = Appointment(
        id=uuid.uuid4(),
        patient=Patient(uuid.uuid4(), "Bob"),
        clinician=DOCTOR,
        start=NOW + timedelta(hours=2, minutes=10),
        duration_minutes=20,
        kind=AppointmentKind.VIDEO,
    )
    assert "already has an appointment" in fields(draft(), [existing])["start"]
    cancelled = replace(existing, status=AppointmentStatus.CANCELLED)
    assert fields(draft(), [cancelled]) == {}
    other_doctor = StaffMember(uuid.uuid4(), "Dr Okafor", Role.CLINICIAN)
    assert fields(draft(clinician_id=other_doctor.id), [existing]) == {}
    # Back to back is not an overlap.
    assert fields(draft(start=NOW + timedelta(hours=2, minutes=30)), [existing]) == {}


def test_editing_a_past_appointment_keeps_its_start() -> None:
    past = draft(start=NOW - timedelta(hours=1))
    assert validate_appointment(past, [], NOW, original_start=past.start) == []


def test_messages_use_the_zone_given() -> None:
    from zoneinfo import ZoneInfo

    late = draft(start=NOW - timedelta(minutes=30))
    errors = validate_appointment(late, [], NOW, zone=ZoneInfo("Asia/Kolkata"))
    assert errors[0].message == "The start (13:00) is in the past."
