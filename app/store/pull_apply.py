"""Applying the server's changes (a pull page) to the local store, in one transaction.

A record with changes of this desktop still queued, or whose last change was rejected, keeps
the user's data: only its server copy is refreshed. Every other record becomes the server's.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, tuple_
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import Session, col, delete, select

from app import fault_points
from app.store import sync_meta
from app.store.tables import (
    AppointmentRow,
    LocationRow,
    OutboxRow,
    ParticipantRow,
    PatientListMemberRow,
    PatientListRow,
    PatientRow,
    PhoneAttemptRow,
    StaffRow,
    SyncRecordRow,
    TaskRow,
)
from shared.enums import Role, SyncState
from shared.phone_call_protocol import PhoneAttemptPublic
from shared.schemas import AppointmentPublic, PatientListPublic, PatientPublic, TaskPublic
from shared.sync_protocol import (
    PUBLIC_SCHEMAS,
    ChangeOut,
    EntityType,
    PublicRecord,
    PullResponse,
)

#: Shown until the directory (staff, locations) or a later page brings the real record.
PLACEHOLDER_PATIENT = "(patient details on their way)"
PLACEHOLDER_STAFF = "(clinician not yet known here)"
PLACEHOLDER_LOCATION = "(location not yet known here)"


@dataclass
class Applied:
    """What a page changed locally, for the Qt models and the directory."""

    changed: dict[str, set[UUID]] = field(default_factory=dict)
    removed: dict[str, set[UUID]] = field(default_factory=dict)
    #: A record named a clinician or location this desktop does not know: reload the directory.
    unknown_directory: bool = False

    def add(self, bucket: dict[str, set[UUID]], entity_type: str, entity_id: UUID) -> None:
        bucket.setdefault(entity_type, set()).add(entity_id)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    if not rows:
        return
    table = _table(model)
    statement = insert(table)
    updates = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def _held_here(session: Session, keys: Iterable[tuple[str, UUID]]) -> set[tuple[str, UUID]]:
    """Of `keys`, the records whose local copy is the user's: changes queued, or rejected."""
    wanted = list(keys)
    if not wanted:
        return set()
    queued = session.exec(
        select(OutboxRow.entity_type, OutboxRow.entity_id).where(
            tuple_(col(OutboxRow.entity_type), col(OutboxRow.entity_id)).in_(wanted)
        )
    ).all()
    rejected = session.exec(
        select(SyncRecordRow.entity_type, SyncRecordRow.entity_id).where(
            tuple_(col(SyncRecordRow.entity_type), col(SyncRecordRow.entity_id)).in_(wanted),
            col(SyncRecordRow.state) == SyncState.REJECTED.value,
        )
    ).all()
    return {(t, i) for t, i in queued} | {(t, i) for t, i in rejected}


def _known(session: Session, model: Any, ids: set[UUID]) -> set[UUID]:
    if not ids:
        return set()
    return set(session.exec(select(model.id).where(col(model.id).in_(ids))).all())


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def write_patients(session: Session, patients: list[PatientPublic]) -> None:
    _upsert(session, PatientRow, [
        {
            "id": p.id,
            "name": p.name,
            "date_of_birth": p.date_of_birth,
            "mrn": p.mrn,
            "mrn_authority": p.mrn_authority,
            "email": p.email,
            "phone": p.phone,
        }
        for p in patients
    ], ["id"])


def write_appointments(
    session: Session, appointments: list[AppointmentPublic], applied: Applied
) -> None:
    """Make the local rows the server's `appointments`, adding placeholders for unknown
    references."""
    if not appointments:
        return
    patients = {a.patient_id for a in appointments}
    missing = patients - _known(session, PatientRow, patients)
    if missing:
        session.execute(insert(_table(PatientRow)).on_conflict_do_nothing(), [
            {"id": i, "name": PLACEHOLDER_PATIENT, "mrn": "", "email": "", "phone": ""}
            for i in missing
        ])
    staff = {a.clinician_id for a in appointments}
    missing = staff - _known(session, StaffRow, staff)
    if missing:
        applied.unknown_directory = True
        session.execute(insert(_table(StaffRow)).on_conflict_do_nothing(), [
            {"id": i, "name": PLACEHOLDER_STAFF, "role": Role.CLINICIAN.value} for i in missing
        ])
    locations = {a.location_id for a in appointments if a.location_id is not None}
    missing = locations - _known(session, LocationRow, locations)
    if missing:
        applied.unknown_directory = True
        session.execute(insert(_table(LocationRow)).on_conflict_do_nothing(), [
            {"id": i, "hospital_name": PLACEHOLDER_LOCATION, "address": ""} for i in missing
        ])
    _upsert(session, AppointmentRow, [
        {
            "id": a.id,
            "patient_id": a.patient_id,
            "clinician_id": a.clinician_id,
            "location_id": a.location_id,
            "start": _utc(a.start),
            "duration_minutes": a.duration_minutes,
            "kind": a.kind.value,
            "status": a.status.value,
            "notes": a.notes,
            "cancel_reason": a.cancel_reason,
            "version": a.version,
            "updated_at": _utc(a.updated_at),
            "invite_status": a.invite_status,
            "invite_error": a.invite_error,
        }
        for a in appointments
    ], ["id"])
    ids = [a.id for a in appointments]
    session.execute(delete(ParticipantRow).where(col(ParticipantRow.appointment_id).in_(ids)))
    participants = [
        {"appointment_id": a.id, "position": position, "name": p.name, "email": p.email}
        for a in appointments
        for position, p in enumerate(a.participants)
    ]
    if participants:
        session.execute(insert(_table(ParticipantRow)), participants)


def write_tasks(session: Session, tasks: list[TaskPublic]) -> None:
    _upsert(session, TaskRow, [
        {
            "id": t.id,
            "appointment_id": t.appointment_id,
            "assignee_id": t.assignee_id,
            "created_by_id": t.created_by_id,
            "due_date": t.due_date,
            "text": t.text,
            "done": t.done,
            "version": t.version,
            "updated_at": _utc(t.updated_at),
        }
        for t in tasks
    ], ["id"])


def write_patient_lists(session: Session, lists: list[PatientListPublic]) -> None:
    _upsert(session, PatientListRow, [
        {"id": p.id, "name": p.name, "archived": p.archived, "version": p.version,
         "updated_at": _utc(p.updated_at)}
        for p in lists
    ], ["id"])
    ids = [p.id for p in lists]
    session.execute(
        delete(PatientListMemberRow).where(col(PatientListMemberRow.list_id).in_(ids)))
    members = [
        {"list_id": p.id, "position": position, "patient_id": patient_id}
        for p in lists
        for position, patient_id in enumerate(p.patient_ids)
    ]
    if members:
        session.execute(insert(_table(PatientListMemberRow)), members)


def write_phone_attempts(session: Session, attempts: list[PhoneAttemptPublic]) -> None:
    _upsert(session, PhoneAttemptRow, [
        {
            "id": a.id,
            "appointment_id": a.appointment_id,
            "started_at": _utc(a.started_at),
            "answered_at": None if a.answered_at is None else _utc(a.answered_at),
            "ended_at": None if a.ended_at is None else _utc(a.ended_at),
            "outcome": a.outcome.value if a.outcome else "",
            "sip_code": a.sip_code,
            "duration_seconds": a.duration_seconds,
            "caller_id": a.caller_id,
            "caller_name": a.caller_name,
            "number": a.number,
            "version": a.version,
            "updated_at": _utc(a.updated_at),
        }
        for a in attempts
    ], ["id"])


def remove_local(session: Session, entity_type: str, ids: set[UUID]) -> set[UUID]:
    """Delete local records (appointments; patients only when no appointment names them)."""
    if not ids:
        return set()
    if entity_type == EntityType.APPOINTMENT:
        session.execute(delete(ParticipantRow).where(col(ParticipantRow.appointment_id).in_(ids)))
        session.execute(
            delete(PhoneAttemptRow).where(col(PhoneAttemptRow.appointment_id).in_(ids)))
        session.execute(delete(AppointmentRow).where(col(AppointmentRow.id).in_(ids)))
        return ids
    if entity_type == EntityType.PATIENT:
        used = set(session.exec(
            select(AppointmentRow.patient_id).where(col(AppointmentRow.patient_id).in_(ids))
        ).all())
        session.execute(delete(PatientRow).where(col(PatientRow.id).in_(ids - used)))
        return ids - used
    if entity_type == EntityType.TASK:
        session.execute(delete(TaskRow).where(col(TaskRow.id).in_(ids)))
        return ids
    if entity_type == EntityType.PHONE_ATTEMPT:
        session.execute(delete(PhoneAttemptRow).where(col(PhoneAttemptRow.id).in_(ids)))
        return ids
    if entity_type == EntityType.PATIENT_LIST:
        session.execute(
            delete(PatientListMemberRow).where(col(PatientListMemberRow.list_id).in_(ids)))
        session.execute(delete(PatientListRow).where(col(PatientListRow.id).in_(ids)))
        return ids
    return set()


def _write(session: Session, records: list[PublicRecord], applied: Applied) -> None:
    """Make the local rows of `records` the server's (patients first: appointments name them)."""
    write_patients(session, [r for r in records if isinstance(r, PatientPublic)])
    write_appointments(session, [r for r in records if isinstance(r, AppointmentPublic)], applied)
    write_tasks(session, [r for r in records if isinstance(r, TaskPublic)])
    write_patient_lists(session, [r for r in records if isinstance(r, PatientListPublic)])
    write_phone_attempts(session, [r for r in records if isinstance(r, PhoneAttemptPublic)])


#: Patients first: appointments name them.
_ORDER = {EntityType.PATIENT: 0, EntityType.APPOINTMENT: 1, EntityType.TASK: 2,
          EntityType.PATIENT_LIST: 3, EntityType.PHONE_ATTEMPT: 4}


def apply_changes(session: Session, changes: list[ChangeOut], generation: int) -> Applied:
    applied = Applied()
    keys = [(change.type.value, change.id) for change in changes]
    held = _held_here(session, keys)
    for entity_type in sorted({c.type for c in changes}, key=_ORDER.__getitem__):
        batch = [c for c in changes if c.type == entity_type]
        records = []
        writes: list[PublicRecord] = []
        gone: set[UUID] = set()
        for change in batch:
            mine = (entity_type.value, change.id) in held
            data = None if change.deleted else change.data
            record: dict[str, Any] = {
                "entity_type": entity_type.value,
                "entity_id": change.id,
                "server_data": None if data is None else data.model_dump_json(),
                "generation": generation,
            }
            if not mine:
                record["server_version"] = None if data is None else data.version
                record["state"] = SyncState.SYNCED.value
                record["message"] = ""
                if data is None:
                    gone.add(change.id)
                else:
                    writes.append(data)
            records.append(record)
        _write(session, writes, applied)
        for written in writes:
            applied.add(applied.changed, entity_type.value, written.id)
        for entity_id in remove_local(session, entity_type, gone):
            applied.add(applied.removed, entity_type.value, entity_id)
        # Held records keep their state and base version: only the server copy moves on.
        for keys_of in ({"entity_type", "entity_id", "server_data", "generation"},
                        {"entity_type", "entity_id", "server_data", "generation",
                         "server_version", "state", "message"}):
            rows = [r for r in records if set(r) == keys_of]
            _upsert(session, SyncRecordRow, rows, ["entity_type", "entity_id"])
    return applied


def apply_page(session: Session, page: PullResponse, generation: int) -> Applied:
    """One pull page: the changes, then the cursor (saved last, in the same transaction)."""
    applied = apply_changes(session, page.changes, generation)
    fault_points.reached("pull-before-cursor")  # inside the transaction: nothing commits
    sync_meta.put(session, sync_meta.CURSOR, str(page.cursor))
    sync_meta.put(session, sync_meta.LAST_SYNC, page.server_time.isoformat())
    session.flush()
    return applied


def adopt_server_copy(session: Session, entity_type: str, entity_id: UUID) -> bool:
    """After the record's last queued change was applied: take the server's copy if it already
    holds that change (a pull may have brought it before the push's answer). True if taken."""
    record = session.get(SyncRecordRow, (entity_type, entity_id))
    if record is None or record.state != SyncState.SYNCED.value or record.server_data is None:
        return False
    server_copy = PUBLIC_SCHEMAS[EntityType(entity_type)].model_validate_json(record.server_data)
    if record.server_version is not None and server_copy.version < record.server_version:
        return False
    _write(session, [server_copy], Applied())
    return True


def sweep_generation(session: Session, generation: int) -> Applied:
    """After a full re-sync: drop the records that did not come back (unless held here)."""
    applied = Applied()
    stale = session.exec(
        select(SyncRecordRow).where(col(SyncRecordRow.generation) < generation,
                                    col(SyncRecordRow.server_version).is_not(None))
    ).all()
    held = _held_here(session, [(r.entity_type, r.entity_id) for r in stale])
    by_type: dict[str, set[UUID]] = {}
    for record in stale:
        if (record.entity_type, record.entity_id) not in held:
            by_type.setdefault(record.entity_type, set()).add(record.entity_id)
            session.delete(record)
    for entity_type in EntityType:
        for entity_id in remove_local(session, entity_type, by_type.get(entity_type, set())):
            applied.add(applied.removed, entity_type.value, entity_id)
    session.flush()
    return applied
