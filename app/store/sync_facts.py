"""What the sync and the user need to know about the store's state: cursor, counts, refusals."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.store import outbox, pull_apply, sync_meta
from app.store.pull_apply import Applied
from app.store.tables import (
    AppointmentRow,
    PatientListRow,
    PatientRow,
    SyncRecordRow,
    TaskRow,
)
from shared.enums import SyncState

_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SyncFacts:
    client_id: UUID
    cursor: int
    scope: str
    generation: int
    #: A full re-sync was started and not finished (the app stopped midway).
    resyncing: bool
    last_sync: datetime | None
    pending: int


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """One change the server refused, for the "needs attention" list."""

    entity_type: str
    entity_id: UUID
    #: What the record is, in words: "Ana Lima, Thu 26 Nov 10:00" / "Patient Ana Lima".
    title: str
    start: datetime | None
    message: str


def sync_facts(session: Session) -> SyncFacts:
    last = sync_meta.get(session, sync_meta.LAST_SYNC)
    return SyncFacts(
        client_id=sync_meta.client_id(session),
        cursor=sync_meta.get_int(session, sync_meta.CURSOR),
        scope=sync_meta.get(session, sync_meta.SCOPE),
        generation=sync_meta.get_int(session, sync_meta.GENERATION),
        resyncing=bool(sync_meta.get(session, sync_meta.RESYNC)),
        last_sync=datetime.fromisoformat(last) if last else None,
        pending=outbox.pending_count(session),
    )


def counts(session: Session) -> tuple[int, int]:
    """(changes waiting to be sent, records the server refused): the status bar's numbers."""
    rejected = session.exec(
        select(func.count()).select_from(SyncRecordRow)
        .where(col(SyncRecordRow.state) == SyncState.REJECTED.value)
    ).one()
    return outbox.pending_count(session), int(rejected)


def rejected_records(session: Session) -> list[RejectedRecord]:
    rows = session.exec(
        select(SyncRecordRow).where(col(SyncRecordRow.state) == SyncState.REJECTED.value)
    ).all()
    found: list[RejectedRecord] = []
    for row in rows:
        title, start = f"{row.entity_type.capitalize()} {row.entity_id}", None
        if row.entity_type == "appointment":
            appointment = session.get(AppointmentRow, row.entity_id)
            if appointment is not None:
                patient = session.get(PatientRow, appointment.patient_id)
                title = patient.name if patient is not None else "Appointment"
                start = appointment.start
        elif row.entity_type == "patient":
            patient = session.get(PatientRow, row.entity_id)
            if patient is not None:
                title = f"Patient details of {patient.name}"
        elif row.entity_type == "patient_list":
            listed = session.get(PatientListRow, row.entity_id)
            if listed is not None:
                title = f"Patient list “{listed.name}”"
        elif row.entity_type == "task":
            task = session.get(TaskRow, row.entity_id)
            if task is not None:
                first = task.text.splitlines()[0] if task.text else ""
                title = f"Task: {first[:60]}"
        found.append(RejectedRecord(row.entity_type, row.entity_id, title, start, row.message))
    # datetime.min in UTC: .astimezone() of it overflows (year 0) east of UTC.
    found.sort(key=lambda r: (r.start is None, r.start or _EARLIEST, r.title))
    return found


def discard_change(session: Session, entity_type: str, entity_id: UUID) -> Applied:
    """Drop the user's refused (and unsent) changes of a record; take the server's copy back,
    or remove the record when the server never had it."""
    outbox.discard_queued(session, entity_type, entity_id)
    applied = Applied()
    record = outbox.sync_record(session, entity_type, entity_id)
    if outbox.queued_for(session, entity_type, entity_id):
        return applied  # a change already sent must be answered first
    record.state, record.message = SyncState.SYNCED.value, ""
    session.add(record)
    if record.server_data is not None:
        data = json.loads(record.server_data)
        record.server_version = int(data["version"])
        pull_apply.adopt_server_copy(session, entity_type, entity_id)
        applied.add(applied.changed, entity_type, entity_id)
    else:
        session.delete(record)
        for removed in pull_apply.remove_local(session, entity_type, {entity_id}):
            applied.add(applied.removed, entity_type, removed)
    session.flush()
    return applied
