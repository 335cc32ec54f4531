"""Creating, changing and cancelling appointments, with the domain's rules decided atomically.

The rules are shared/validation.py's, run inside the write transaction after the
clinician's schedule is locked (database.lock_schedules; SQLite serializes all writes), so two
clerks booking the same clinician at the same moment cannot both succeed.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, delete, select

from server.database import lock_schedules
from server.errors import ApiError, invalid, not_found
from server.integration import hl7_outbound
from server.models.appointment import (
    Appointment,
    AppointmentExternalId,
    AppointmentParticipant,
)
from server.models.location import Location
from server.models.patient import Patient
from server.models.user import User
from server.security.access_rules import require_bookable, require_visible
from server.services import (
    audit,
    changes,
    invites,
    patient_links,
    phone_attempts,
    room_closing,
    versions,
)
from server.services.caller import Caller
from shared import records
from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind, AppointmentStatus, Role
from shared.errors import FieldError
from shared.schemas import AppointmentCreate, AppointmentUpdate, ParticipantIn
from shared.transitions import move_refusal
from shared.validation import MAX_DURATION_MINUTES, validate_appointment

#: What a cancellation changes, for the field-level merge.
_CANCEL_FIELDS = ("status", "cancel_reason")


def _tells_patient(caller: Caller, row: Appointment) -> bool:
    """Changes reach a patient who was invited (by staff, or by a staff booking); a system's
    changes to an appointment with no invite history stay quiet too."""
    if row.invite_status == records.NOT_INVITED:
        return False
    return not caller.system or bool(row.invite_status)


def _domain_patient(row: Patient) -> records.Patient:
    return records.Patient(row.id, row.name, row.date_of_birth, row.mrn, row.email, row.phone)


def _clinician(session: Session, clinician_id: UUID) -> User:
    user = session.get(User, clinician_id)
    if user is None or user.role != Role.CLINICIAN or not user.is_active:
        raise invalid([FieldError("clinician_id", "Choose an active clinician.")])
    return user


def _patient(session: Session, patient_id: UUID) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise invalid([FieldError("patient_id", "This patient does not exist.")])
    return patient


def _check_location(session: Session, location_id: UUID | None) -> None:
    if location_id is not None and session.get(Location, location_id) is None:
        raise invalid([FieldError("location_id", "This location does not exist.")])


def _neighbours(
    session: Session, clinician: User, start: datetime, end: datetime
) -> list[records.Appointment]:
    """The clinician's booked appointments that could overlap [start, end).

    Plain columns, not ORM objects: a busy clinic day has a hundred neighbours per booking,
    and the overlap rule needs only their times (the patient is not in its message).
    """
    staff = records.StaffMember(clinician.id, clinician.full_name, Role.CLINICIAN)
    rows = session.execute(
        sa_select(
            col(Appointment.id), col(Appointment.start), col(Appointment.duration_minutes),
            col(Appointment.kind), col(Appointment.status), col(Appointment.patient_id),
        ).where(
            col(Appointment.clinician_id) == clinician.id,
            col(Appointment.status) != AppointmentStatus.CANCELLED.value,
            col(Appointment.start) < end,
            col(Appointment.start) > start - timedelta(minutes=MAX_DURATION_MINUTES),
        )
    ).all()
    return [
        records.Appointment(
            id=row_id,
            patient=records.Patient(patient_id, ""),
            clinician=staff,
            start=row_start,
            duration_minutes=duration,
            kind=AppointmentKind(kind),
            status=AppointmentStatus(status),
        )
        for row_id, row_start, duration, kind, status, patient_id in rows
    ]


def _clinic_zone(session: Session, location_id: UUID | None) -> tzinfo:
    """The zone the clinic reads its clock in: the location's, UTC when there is none."""
    location = session.get(Location, location_id) if location_id is not None else None
    try:
        return ZoneInfo(location.time_zone) if location is not None else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _decide(
    session: Session,
    draft: AppointmentDraft,
    clinician: User,
    now: datetime,
    original_start: datetime | None,
) -> None:
    """Raise 422 for a draft that breaks a rule, 409 when it would double-book the clinician."""
    zone = _clinic_zone(session, draft.location_id)
    problems = validate_appointment(draft, [], now, original_start, zone)
    if problems:
        raise invalid(problems)
    end = draft.start + timedelta(minutes=draft.duration_minutes)
    with_schedule = validate_appointment(
        draft, _neighbours(session, clinician, draft.start, end), now, original_start, zone
    )
    if with_schedule:
        raise ApiError(
            409, "double_booking", "; ".join(e.message for e in with_schedule), with_schedule
        )


def _draft(
    patient: Patient,
    clinician_id: UUID,
    start: datetime,
    duration_minutes: int,
    kind: AppointmentKind,
    location_id: UUID | None,
    notes: str,
    participants: list[ParticipantIn],
    appointment_id: UUID | None,
) -> AppointmentDraft:
    return AppointmentDraft(
        patient=PatientDraft(
            patient.name,
            patient.date_of_birth,
            patient.mrn,
            patient.email,
            patient.phone,
            patient.id,
        ),
        clinician_id=clinician_id,
        start=start,
        duration_minutes=duration_minutes,
        kind=kind,
        location_id=location_id,
        notes=notes,
        participants=[records.Participant(p.name, p.email) for p in participants],
        id=appointment_id,
    )


def _store_participants(
    session: Session, appointment_id: UUID, participants: list[ParticipantIn], *, new: bool
) -> None:
    if not new:
        session.execute(
            delete(AppointmentParticipant).where(
                col(AppointmentParticipant.appointment_id) == appointment_id
            )
        )
    for position, participant in enumerate(participants):
        session.add(
            AppointmentParticipant(
                appointment_id=appointment_id,
                position=position,
                name=participant.name.strip(),
                email=participant.email.strip(),
            )
        )


def _check_external_ids(session: Session, external_ids: dict[str, str]) -> None:
    for system, value in external_ids.items():
        if not system or len(system) > 32 or not value or len(value) > 200:
            problem = FieldError("external_ids", "Each external id needs a system and a value.")
            raise invalid([problem])
    if not external_ids:
        return
    taken = session.exec(
        select(AppointmentExternalId.system, AppointmentExternalId.value).where(
            or_(
                *(
                    and_(
                        col(AppointmentExternalId.system) == system,
                        col(AppointmentExternalId.value) == value,
                    )
                    for system, value in external_ids.items()
                )
            )
        )
    ).first()
    if taken is not None:
        system, value = taken
        raise ApiError(
            409, "duplicate_external_id", f"An appointment with {system} id {value} exists."
        )


def create(
    session: Session,
    caller: Caller,
    body: AppointmentCreate,
    appointment_id: UUID | None = None,
) -> Appointment:
    """Book an appointment for a clinician the caller may book for."""
    now = caller.now
    require_bookable(session, caller, body.clinician_id)
    if appointment_id is not None and session.get(Appointment, appointment_id) is not None:
        raise ApiError(409, "exists", "An appointment with this id exists already.")
    clinician = _clinician(session, body.clinician_id)
    patient = _patient(session, body.patient_id)
    _check_location(session, body.location_id)
    lock_schedules(session, [clinician.id])
    draft = _draft(
        patient,
        clinician.id,
        body.start,
        body.duration_minutes,
        body.kind,
        body.location_id,
        body.notes,
        body.participants,
        None,
    )
    _decide(session, draft, clinician, now, None)
    _check_external_ids(session, body.external_ids)
    row = Appointment(
        id=appointment_id or uuid4(),
        patient_id=patient.id,
        clinician_id=clinician.id,
        location_id=body.location_id,
        start=body.start,
        duration_minutes=body.duration_minutes,
        kind=body.kind,
        status=AppointmentStatus.SCHEDULED,
        notes=body.notes,
        created_by_id=caller.user.id,
        created_at=now,
        updated_at=now,
        invite_status=records.NOT_INVITED if caller.system else "",
    )
    session.add(row)
    session.flush()
    _store_participants(session, row.id, body.participants, new=True)
    for system, value in body.external_ids.items():
        session.add(AppointmentExternalId(appointment_id=row.id, system=system, value=value))
    audit.record(session, caller, "appointment.create", "appointment", row.id)
    if not caller.system:
        invites.queue(session, row, invites.BOOKED, now)
    changes.record(session, "appointment", row.id, [row.clinician_id], now)
    session.flush()
    return row


def participants_of(session: Session, appointment_id: UUID) -> list[ParticipantIn]:
    rows = session.exec(
        select(AppointmentParticipant)
        .where(AppointmentParticipant.appointment_id == appointment_id)
        .order_by(col(AppointmentParticipant.position))
    )
    return [ParticipantIn(name=row.name, email=row.email) for row in rows]


def get(session: Session, appointment_id: UUID) -> Appointment:
    row = session.get(Appointment, appointment_id)
    if row is None:
        raise not_found("Appointment")
    return row


def _check_version(
    session: Session, row: Appointment, base_version: int, fields: Iterable[str]
) -> None:
    versions.check_base(session, "appointment", row.id, row.version, base_version, fields)


def update(session: Session, caller: Caller, row: Appointment, body: AppointmentUpdate) -> None:
    """Change a booked appointment; the new time is checked against the (new) clinician."""
    now = caller.now
    require_bookable(session, caller, row.clinician_id)
    if body.clinician_id is not None:
        require_bookable(session, caller, body.clinician_id)
    changed = body.model_fields_set - {"base_version"}
    _check_version(session, row, body.base_version, changed)
    if row.status != AppointmentStatus.SCHEDULED:
        raise ApiError(409, "not_editable", f"A {row.status} appointment cannot be changed.")
    clinician_id = body.clinician_id or row.clinician_id
    clinician = _clinician(session, clinician_id)
    patient = _patient(session, body.patient_id or row.patient_id)
    location_id = body.location_id if "location_id" in body.model_fields_set else row.location_id
    _check_location(session, location_id)
    lock_schedules(session, {row.clinician_id, clinician_id})
    participants = (
        body.participants if body.participants is not None else participants_of(session, row.id)
    )
    draft = _draft(
        patient,
        clinician_id,
        body.start or row.start,
        body.duration_minutes if body.duration_minutes is not None else row.duration_minutes,
        body.kind or AppointmentKind(row.kind),
        location_id,
        body.notes if body.notes is not None else row.notes,
        participants,
        row.id,
    )
    _decide(session, draft, clinician, now, row.start)
    previous_clinician = row.clinician_id
    row.patient_id = patient.id
    row.clinician_id = clinician_id
    row.start = draft.start
    row.duration_minutes = draft.duration_minutes
    row.kind = draft.kind
    row.location_id = location_id
    row.notes = draft.notes
    row.version += 1
    row.updated_at = now
    session.add(row)
    if body.participants is not None:
        _store_participants(session, row.id, body.participants, new=False)
    versions.record_fields(session, "appointment", row.id, row.version, changed)
    fields = ",".join(sorted(changed))
    audit.record(session, caller, "appointment.update", "appointment", row.id, f"fields={fields}")
    if changed & invites.RESCHEDULE_FIELDS and _tells_patient(caller, row):
        invites.queue(session, row, invites.RESCHEDULED, now)
    changes.record(
        session, "appointment", row.id, [clinician_id], now, gone_from=[previous_clinician]
    )
    phone_attempts.follow_appointment(session, row.id, clinician_id, previous_clinician, now)
    session.flush()


def cancel(
    session: Session, caller: Caller, row: Appointment, reason: str, base_version: int
) -> None:
    now = caller.now
    require_bookable(session, caller, row.clinician_id)
    _check_version(session, row, base_version, _CANCEL_FIELDS)
    if row.status != AppointmentStatus.SCHEDULED:
        raise ApiError(409, "not_cancellable", f"A {row.status} appointment cannot be cancelled.")
    row.status = AppointmentStatus.CANCELLED
    row.cancel_reason = reason.strip()
    row.version += 1
    row.updated_at = now
    session.add(row)
    versions.record_fields(session, "appointment", row.id, row.version, _CANCEL_FIELDS)
    audit.record(session, caller, "appointment.cancel", "appointment", row.id)
    patient_links.revoke_all(session, row.id, now)
    room_closing.close_after_commit(session, row)
    if _tells_patient(caller, row):
        invites.queue(session, row, invites.CANCELLED, now)
    changes.record(session, "appointment", row.id, [row.clinician_id], now)
    session.flush()


def set_status(
    session: Session, caller: Caller, row: Appointment, status: AppointmentStatus,
    base_version: int,
) -> None:
    """Mark a no-show (or undo it) or the call taken; the moves of shared/transitions.py."""
    require_bookable(session, caller, row.clinician_id)
    _check_version(session, row, base_version, ("status",))
    if status is AppointmentStatus.CANCELLED:
        raise ApiError(409, "not_allowed", "Cancel an appointment with its reason.")
    _move(session, caller, row, status)


def mark_taken(session: Session, caller: Caller, row: Appointment) -> None:
    """The caller's call with the patient began (the phone answered): taken. Whoever may see
    the schedule may call its patients, also a delegate who may not book for it."""
    require_visible(session, caller.user, row.clinician_id)
    _move(session, caller, row, AppointmentStatus.TAKEN)


def _move(session: Session, caller: Caller, row: Appointment, status: AppointmentStatus) -> None:
    now = caller.now
    refusal = move_refusal(AppointmentStatus(row.status), status)
    if refusal is not None:
        raise ApiError(409, "not_allowed", refusal)
    if status is AppointmentStatus(row.status):
        return
    row.status = status
    row.version += 1
    row.updated_at = now
    session.add(row)
    versions.record_fields(session, "appointment", row.id, row.version, ("status",))
    audit.record(session, caller, "appointment.status", "appointment", row.id, f"status={status}")
    if status is AppointmentStatus.NO_SHOW:
        room_closing.close_after_commit(session, row)
    hl7_outbound.queue_status(session, row, status.value, now, caller.user)
    changes.record(session, "appointment", row.id, [row.clinician_id], now)
    session.flush()
