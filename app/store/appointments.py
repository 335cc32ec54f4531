"""Appointments in the local store: the schedule's range query and the validated writes."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select

from app.store import mutations, phone_attempts
from app.store.errors import NotFound
from app.store.patients import mrn_errors, upsert_patient
from app.store.tables import (
    AppointmentRow,
    LocationRow,
    ParticipantRow,
    PatientRow,
    StaffRow,
    SyncRecordRow,
)
from app.store.wire_records import appointment_row_fields, patient_row_fields
from shared.drafts import AppointmentDraft
from shared.enums import AppointmentKind, AppointmentStatus, Role, SyncState
from shared.errors import FieldError, ValidationFailed
from shared.records import Appointment, Location, Participant, Patient, StaffMember
from shared.transitions import label, move_refusal
from shared.validation import (
    MAX_DURATION_MINUTES,
    text_problem,
    time_problem,
    validate_appointment,
)

_Clinician = aliased(StaffRow)
_Location = aliased(LocationRow)

_COLUMNS: tuple[Any, ...] = (
    AppointmentRow.id,
    AppointmentRow.start,
    AppointmentRow.duration_minutes,
    AppointmentRow.kind,
    AppointmentRow.status,
    AppointmentRow.notes,
    AppointmentRow.cancel_reason,
    AppointmentRow.version,
    AppointmentRow.invite_status,
    AppointmentRow.invite_error,
    PatientRow.id,
    PatientRow.name,
    PatientRow.date_of_birth,
    PatientRow.mrn,
    PatientRow.email,
    PatientRow.phone,
    _Clinician.id,
    _Clinician.name,
    _Clinician.role,
    _Location.id,
    _Location.hospital_name,
    _Location.address,
    SyncRecordRow.state,
    SyncRecordRow.message,
)


def _base_query() -> Select[Any]:
    # SQLAlchemy's own select: SQLModel's typed overloads stop at four columns.
    return (
        sa_select(*_COLUMNS)
        .join(PatientRow, col(PatientRow.id) == col(AppointmentRow.patient_id))
        .join(_Clinician, col(_Clinician.id) == col(AppointmentRow.clinician_id))
        .outerjoin(_Location, col(_Location.id) == col(AppointmentRow.location_id))
        .outerjoin(
            SyncRecordRow,
            and_(
                col(SyncRecordRow.entity_type) == "appointment",
                col(SyncRecordRow.entity_id) == col(AppointmentRow.id),
            ),
        )
    )


def _participants(session: Session, ids: list[UUID]) -> dict[UUID, tuple[Participant, ...]]:
    found: dict[UUID, list[Participant]] = defaultdict(list)
    if ids:
        query = (
            select(ParticipantRow)
            .where(col(ParticipantRow.appointment_id).in_(ids))
            .order_by(col(ParticipantRow.appointment_id), col(ParticipantRow.position))
        )
        for row in session.exec(query):
            found[row.appointment_id].append(Participant(name=row.name, email=row.email))
    return {key: tuple(value) for key, value in found.items()}


def _build(session: Session, rows: Sequence[Sequence[Any]]) -> list[Appointment]:
    """Records from the rows of _base_query (one tuple per appointment, columns as _COLUMNS)."""
    groups = [row[0] for row in rows if row[3] == AppointmentKind.GROUP.value]  # row[3]: kind
    participants = _participants(session, groups)
    called = phone_attempts.latest_of(
        session, (row[0] for row in rows if row[3] == AppointmentKind.PHONE.value))
    staff_cache: dict[UUID, StaffMember] = {}
    location_cache: dict[UUID, Location] = {}
    result: list[Appointment] = []
    for (
        a_id, start, duration, kind, status, notes, reason, version, invite_status, invite_error,
        p_id, p_name, p_dob, p_mrn, p_email, p_phone,
        c_id, c_name, c_role,
        l_id, l_name, l_address,
        sync_state, sync_message,
    ) in rows:
        clinician = staff_cache.get(c_id)
        if clinician is None:
            clinician = staff_cache[c_id] = StaffMember(c_id, c_name, Role(c_role))
        location = None
        if l_id is not None:
            location = location_cache.get(l_id)
            if location is None:
                location = location_cache[l_id] = Location(l_id, l_name, l_address)
        result.append(
            Appointment(
                id=a_id,
                patient=Patient(p_id, p_name, p_dob, p_mrn, p_email, p_phone),
                clinician=clinician,
                start=start,
                duration_minutes=duration,
                kind=AppointmentKind(kind),
                status=AppointmentStatus(status),
                location=location,
                notes=notes,
                participants=participants.get(a_id, ()),
                cancel_reason=reason,
                version=version,
                sync_state=SyncState(sync_state or SyncState.SYNCED),
                sync_message=sync_message or "",
                invite_status=invite_status,
                invite_error=invite_error,
                last_phone_attempt=called.get(a_id),
            )
        )
    return result


def appointments_between(
    session: Session, start: datetime, end: datetime, clinician_id: UUID | None = None
) -> list[Appointment]:
    """Appointments that start in [start, end), by start time."""
    query = _base_query().where(
        col(AppointmentRow.start) >= start, col(AppointmentRow.start) < end
    )
    if clinician_id is not None:
        query = query.where(col(AppointmentRow.clinician_id) == clinician_id)
    query = query.order_by(col(AppointmentRow.start))
    return _build(session, list(session.execute(query)))


def appointments_of_patient(session: Session, patient_id: UUID) -> list[Appointment]:
    """Every appointment of the patient on this desktop, by start."""
    query = (
        _base_query()
        .where(col(AppointmentRow.patient_id) == patient_id)
        .order_by(col(AppointmentRow.start))
    )
    return _build(session, list(session.execute(query)))


def appointment_ids_of_patients(session: Session, patient_ids: set[UUID]) -> set[UUID]:
    query = select(AppointmentRow.id).where(col(AppointmentRow.patient_id).in_(patient_ids))
    return set(session.exec(query).all())


def appointments_in_range_by_ids(
    session: Session, ids: set[UUID], start: datetime, end: datetime
) -> list[Appointment]:
    """Of `ids`, the appointments that start in [start, end)."""
    if not ids:
        return []
    query = _base_query().where(
        col(AppointmentRow.id).in_(ids),
        col(AppointmentRow.start) >= start,
        col(AppointmentRow.start) < end,
    )
    return _build(session, list(session.execute(query)))


def appointments_by_ids(session: Session, ids: set[UUID]) -> list[Appointment]:
    if not ids:
        return []
    return _build(session, list(session.execute(
        _base_query().where(col(AppointmentRow.id).in_(ids)))))


def get_appointment(session: Session, appointment_id: UUID) -> Appointment:
    query = _base_query().where(col(AppointmentRow.id) == appointment_id)
    found = _build(session, list(session.execute(query)))
    if not found:
        raise NotFound("This appointment is no longer on this desktop.")
    return found[0]


def save_appointment(session: Session, draft: AppointmentDraft, now: datetime) -> Appointment:
    """Validate `draft` against the clinician's other appointments and write it, atomically.

    Runs on the store worker inside one transaction, so the overlap check and the write cannot
    be split by another save. Raises ValidationFailed (nothing written) when a rule is broken.
    """
    row: AppointmentRow | None = None
    original_start = None
    if draft.id is not None:
        row = session.get(AppointmentRow, draft.id)
        if row is None:
            raise NotFound("This appointment is no longer on this desktop.")
        if row.status != AppointmentStatus.SCHEDULED.value:
            raise ValidationFailed(
                [FieldError("status", f"A {label(row.status)} appointment cannot be edited.")]
            )
        original_start = row.start

    others: list[Appointment] = []
    # A start no store holds cannot be looked around either (validation says why).
    if draft.clinician_id is not None and time_problem(draft.start) is None:
        window = timedelta(minutes=MAX_DURATION_MINUTES)
        others = appointments_between(
            session, draft.start - window, draft.start + window, draft.clinician_id
        )
    errors = validate_appointment(draft, others, now, original_start)
    errors.extend(mrn_errors(session, draft.patient))
    if draft.clinician_id is not None and session.get(StaffRow, draft.clinician_id) is None:
        errors.append(FieldError("clinician", "This clinician is not known on this desktop."))
    if draft.location_id is not None and session.get(LocationRow, draft.location_id) is None:
        errors.append(FieldError("location", "This location is not known on this desktop."))
    if errors:
        raise ValidationFailed(errors)
    assert draft.clinician_id is not None  # validation refuses a draft without one

    patient_row = session.get(PatientRow, draft.patient.id) if draft.patient.id else None
    patient_before = patient_row_fields(patient_row) if patient_row is not None else None
    appointment_before = appointment_row_fields(session, row) if row is not None else None
    patient = upsert_patient(session, draft.patient)
    stored_patient = session.get(PatientRow, patient.id)
    assert stored_patient is not None
    mutations.patient_saved(session, stored_patient, patient_before, now)
    if row is None:
        row = AppointmentRow(
            id=uuid.uuid4(),
            patient_id=patient.id,
            clinician_id=draft.clinician_id,
            start=draft.start,
            duration_minutes=draft.duration_minutes,
            kind=draft.kind.value,
            status=AppointmentStatus.SCHEDULED.value,
            version=1,
            updated_at=now,
        )
    else:
        row.version += 1
        row.updated_at = now
    row.patient_id = patient.id
    row.clinician_id = draft.clinician_id
    row.location_id = draft.location_id
    row.start = draft.start
    row.duration_minutes = draft.duration_minutes
    row.kind = draft.kind.value
    row.notes = draft.notes.strip()
    session.add(row)
    session.flush()

    session.execute(delete(ParticipantRow).where(col(ParticipantRow.appointment_id) == row.id))
    if draft.kind is AppointmentKind.GROUP:
        for position, participant in enumerate(draft.participants):
            session.add(
                ParticipantRow(
                    appointment_id=row.id,
                    position=position,
                    name=participant.name.strip(),
                    email=participant.email.strip(),
                )
            )
    session.flush()
    mutations.appointment_saved(session, row, appointment_before, now)
    return get_appointment(session, row.id)


def set_status(
    session: Session,
    appointment_id: UUID,
    status: AppointmentStatus,
    now: datetime,
    reason: str = "",
) -> Appointment:
    """Move an appointment to `status` (cancel, no-show, taken), refusing impossible moves."""
    row = session.get(AppointmentRow, appointment_id)
    if row is None:
        raise NotFound("This appointment is no longer on this desktop.")
    current = AppointmentStatus(row.status)
    if status is not current:
        refusal = move_refusal(current, status)
        if refusal is not None:
            raise ValidationFailed([FieldError("status", refusal)])
        problem = text_problem(reason, "the reason", multiline=True)
        if problem is not None:
            raise ValidationFailed([FieldError("reason", problem)])
        row.status = status.value
        row.cancel_reason = reason.strip() if status is AppointmentStatus.CANCELLED else ""
        row.version += 1
        row.updated_at = now
        session.add(row)
        session.flush()
        mutations.status_changed(session, row, status, row.cancel_reason, now)
    return get_appointment(session, appointment_id)
