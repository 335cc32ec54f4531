"""The clinic's patient lists in the local store: read with each patient's next appointment,
and validated writes (through the outbox, like every change)."""

import uuid
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, func
from sqlmodel import Session, col, delete, select

from app.store import mutations
from app.store.appointments import appointments_by_ids
from app.store.errors import NotFound
from app.store.patients import patient_from_row
from app.store.tables import (
    AppointmentRow,
    PatientListMemberRow,
    PatientListRow,
    PatientRow,
    SyncRecordRow,
)
from app.store.wire_records import list_members, patient_list_row_fields
from shared.drafts import PatientListDraft
from shared.enums import AppointmentStatus, SyncState
from shared.errors import FieldError, ValidationFailed
from shared.records import Appointment, ListEntry, PatientList
from shared.schemas import MAX_LIST_PATIENTS
from shared.validation import text_problem


def all_lists(session: Session) -> list[PatientList]:
    """Every list on this desktop, by name (deleted ones are not shown)."""
    query = (
        select(PatientListRow, SyncRecordRow.state, SyncRecordRow.message)
        .outerjoin(SyncRecordRow, and_(col(SyncRecordRow.entity_type) == "patient_list",
                                       col(SyncRecordRow.entity_id) == col(PatientListRow.id)))
        .where(col(PatientListRow.archived).is_(False))
        .order_by(func.lower(col(PatientListRow.name)))
    )
    return [
        PatientList(row.id, row.name, tuple(list_members(session, row.id)), row.version,
                    SyncState(state or SyncState.SYNCED), message or "")
        for row, state, message in session.exec(query)
    ]


def list_entries(session: Session, list_id: UUID, now: datetime) -> list[ListEntry]:
    """The list's patients in its order, each with their next appointment still to come."""
    if session.get(PatientListRow, list_id) is None:
        raise NotFound("This patient list is no longer on this desktop.")
    ids = list_members(session, list_id)
    patients = {row.id: patient_from_row(row) for row in session.exec(
        select(PatientRow).where(col(PatientRow.id).in_(ids)))}
    # Each patient's first booking still to start (SQLite's bare column beside MIN is the
    # row holding the minimum).
    upcoming = session.exec(
        select(AppointmentRow.patient_id, AppointmentRow.id, func.min(AppointmentRow.start))
        .where(col(AppointmentRow.patient_id).in_(ids),
               col(AppointmentRow.status) == AppointmentStatus.SCHEDULED.value,
               col(AppointmentRow.start) >= now)
        .group_by(col(AppointmentRow.patient_id))
    ).all()
    booked = {a.id: a for a in appointments_by_ids(session, {a_id for _p, a_id, _s in upcoming})}
    next_of: dict[UUID, Appointment] = {
        patient_id: booked[a_id] for patient_id, a_id, _start in upcoming if a_id in booked}
    return [ListEntry(patients[i], next_of.get(i)) for i in ids if i in patients]


def save_list(session: Session, draft: PatientListDraft, now: datetime) -> PatientList:
    """Create, rename or refill a list: checked, written and queued in one transaction."""
    name = draft.name.strip()
    errors: list[FieldError] = []
    if not name:
        errors.append(FieldError("name", "Give the list a name."))
    elif len(name) > 200:
        errors.append(FieldError("name", "A list's name has at most 200 characters."))
    problem = text_problem(name, "the list's name")
    if problem is not None:
        errors.append(FieldError("name", problem))
    members = list(dict.fromkeys(draft.patient_ids))
    if len(members) > MAX_LIST_PATIENTS:
        errors.append(FieldError("patient_ids",
                                 f"A list holds at most {MAX_LIST_PATIENTS} patients."))
    known = set(session.exec(select(PatientRow.id).where(col(PatientRow.id).in_(members))).all())
    if known != set(members):
        errors.append(FieldError("patient_ids", "A patient on this list is not on this desktop."))
    if errors:
        raise ValidationFailed(errors)
    before = None
    if draft.id is None:
        row = PatientListRow(id=uuid.uuid4(), name=name, updated_at=now)
    else:
        row = _live_list(session, draft.id)
        before = patient_list_row_fields(session, row)
        row.version += 1
        row.name = name
        row.updated_at = now
    session.add(row)
    session.flush()
    session.execute(
        delete(PatientListMemberRow).where(col(PatientListMemberRow.list_id) == row.id))
    for position, patient_id in enumerate(members):
        session.add(PatientListMemberRow(list_id=row.id, position=position,
                                         patient_id=patient_id))
    session.flush()
    mutations.patient_list_saved(session, row, before, now)
    return _record(session, row)


def set_deleted(session: Session, list_id: UUID, deleted: bool, now: datetime) -> PatientList:
    """Delete a list (or bring a deleted one back): its patients and their appointments stay;
    the list is kept on the server for the audit trail and hidden on every desktop."""
    row = session.get(PatientListRow, list_id)
    if row is None:
        raise NotFound("This patient list is no longer on this desktop.")
    if row.archived == deleted:
        return _record(session, row)
    before = patient_list_row_fields(session, row)
    row.archived = deleted
    row.version += 1
    row.updated_at = now
    session.add(row)
    session.flush()
    mutations.patient_list_saved(session, row, before, now)
    return _record(session, row)


def _live_list(session: Session, list_id: UUID) -> PatientListRow:
    row = session.get(PatientListRow, list_id)
    if row is None:
        raise NotFound("This patient list is no longer on this desktop.")
    if row.archived:
        raise NotFound(f"The list “{row.name}” was deleted.")
    return row


def _record(session: Session, row: PatientListRow) -> PatientList:
    state = session.exec(select(SyncRecordRow.state, SyncRecordRow.message).where(
        col(SyncRecordRow.entity_type) == "patient_list",
        col(SyncRecordRow.entity_id) == row.id)).first()
    sync_state, message = state if state is not None else (None, None)
    return PatientList(row.id, row.name, tuple(list_members(session, row.id)), row.version,
                       SyncState(sync_state or SyncState.SYNCED), message or "")
