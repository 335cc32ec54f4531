"""The outbox: changes made on this desktop, kept in order until the server has answered each.

Every local write adds its mutation here in the same transaction as the write itself, so a
change is never in the store without being on its way to the server (or the other way round).
A mutation is frozen once sent: a repeat after a lost answer carries the same id, and the
server answers it from its ledger instead of applying it twice (docs/sync.md).
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, tuple_
from sqlmodel import Session, col, delete, select

from app.store.tables import OutboxRow, SyncRecordRow
from app.store.wire_records import Fields
from shared.enums import SyncState
from shared.sync_protocol import Intent, Mutation, MutationResult, RejectReason

#: Intents that create the record when the server does not have it yet.
_CREATES = frozenset({Intent.APPOINTMENT_CREATE, Intent.PATIENT_UPSERT, Intent.TASK_UPSERT,
                      Intent.PATIENT_LIST_UPSERT})
#: An unsent mutation of the first intent may absorb a later change of the second.
_FOLDS: dict[Intent, frozenset[Intent]] = {
    Intent.APPOINTMENT_UPDATE: frozenset({Intent.APPOINTMENT_CREATE, Intent.APPOINTMENT_UPDATE}),
    Intent.PATIENT_UPSERT: frozenset({Intent.PATIENT_UPSERT}),
    Intent.TASK_UPSERT: frozenset({Intent.TASK_UPSERT}),
    Intent.PATIENT_LIST_UPSERT: frozenset({Intent.PATIENT_LIST_UPSERT}),
}


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a push's answers changed locally: records whose sync state or version moved."""

    entity_ids: dict[str, set[UUID]]
    rejected: int


def sync_record(session: Session, entity_type: str, entity_id: UUID) -> SyncRecordRow:
    """The record's sync row, created (not yet on the server) when there is none."""
    row = session.get(SyncRecordRow, (entity_type, entity_id))
    if row is None:
        row = SyncRecordRow(entity_type=entity_type, entity_id=entity_id)
        session.add(row)
    return row


def queued_for(session: Session, entity_type: str, entity_id: UUID) -> list[OutboxRow]:
    query = (
        select(OutboxRow)
        .where(col(OutboxRow.entity_type) == entity_type, col(OutboxRow.entity_id) == entity_id)
        .order_by(col(OutboxRow.seq))
    )
    return list(session.exec(query))


def on_server(session: Session, entity_type: str, entity_id: UUID) -> bool:
    """True when the server has the record or a create of it is on its way."""
    record = session.get(SyncRecordRow, (entity_type, entity_id))
    if record is not None and record.server_version is not None:
        return True
    return any(row.intent in _CREATES for row in queued_for(session, entity_type, entity_id))


def rebase(session: Session, entity_type: str, entity_id: UUID) -> Fields | None:
    """Before a change with nothing else queued for the record: base it on the newest server
    copy (so a retry after a rejection is judged against what the server has now). Returns the
    server copy's data, or None when the record has changes queued or no server copy."""
    if queued_for(session, entity_type, entity_id):
        return None
    record = session.get(SyncRecordRow, (entity_type, entity_id))
    if record is None or record.server_data is None:
        return None
    data: Fields = json.loads(record.server_data)
    record.server_version = int(data["version"])
    session.add(record)
    return data


def enqueue(
    session: Session,
    intent: Intent,
    entity_type: str,
    entity_id: UUID,
    payload: Fields,
    now: datetime,
) -> None:
    """Queue a change and mark the record pending. An unsent change that is the newest in the
    whole outbox absorbs a later edit of the same record (no reordering, fewer round trips)."""
    newest = session.exec(select(OutboxRow).order_by(col(OutboxRow.seq).desc()).limit(1)).first()
    if (
        newest is not None
        and not newest.sent
        and newest.entity_type == entity_type
        and newest.entity_id == entity_id
        and Intent(newest.intent) in _FOLDS.get(intent, frozenset())
    ):
        newest.payload = json.dumps(json.loads(newest.payload) | payload)
        session.add(newest)
    else:
        session.add(
            OutboxRow(
                id=uuid.uuid4(),
                intent=intent.value,
                entity_type=entity_type,
                entity_id=entity_id,
                payload=json.dumps(payload),
                created_at=now,
            )
        )
    record = sync_record(session, entity_type, entity_id)
    record.state = SyncState.PENDING.value
    record.message = ""
    session.add(record)
    session.flush()


def pending_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(OutboxRow)).one())


def next_batch(session: Session, limit: int) -> list[Mutation]:
    """The next mutations to push, in order, frozen as sent. A batch stops before a second
    change of one record: its base version is known only once the first is answered."""
    rows = session.exec(select(OutboxRow).order_by(col(OutboxRow.seq)).limit(limit)).all()
    batch: list[Mutation] = []
    seen: set[tuple[str, UUID]] = set()
    for row in rows:
        key = (row.entity_type, row.entity_id)
        if key in seen:
            break
        seen.add(key)
        if not row.sent:
            if row.intent != Intent.APPOINTMENT_CREATE.value:
                record = session.get(SyncRecordRow, key)
                row.base_version = None if record is None else record.server_version
            row.sent = True
            session.add(row)
        assert row.seq is not None
        batch.append(
            Mutation(
                id=row.id,
                seq=row.seq,
                intent=Intent(row.intent),
                entity_id=row.entity_id,
                base_version=row.base_version,
                payload=json.loads(row.payload),
            )
        )
    session.flush()
    return batch


def resolve(session: Session, results: list[MutationResult]) -> Resolved:
    """Apply the server's answers: drop answered mutations, move versions, mark rejections.

    A `conflict` answer is not stored by the server (a concurrent write it could not decide):
    the mutation stays queued and is sent again. A batch's answers are applied in a few
    queries, not a few per answer: this runs once per push of up to a hundred.
    """
    answers = {
        result.id: result for result in results
        if not (result.status == "rejected" and result.reason is RejectReason.CONFLICT)
    }
    if not answers:
        return Resolved({}, 0)
    rows = session.exec(select(OutboxRow).where(col(OutboxRow.id).in_(list(answers)))).all()
    session.execute(delete(OutboxRow).where(col(OutboxRow.id).in_(list(answers))))
    keys = {(row.entity_type, row.entity_id) for row in rows}
    still_queued = set(session.exec(
        select(OutboxRow.entity_type, OutboxRow.entity_id).where(
            tuple_(col(OutboxRow.entity_type), col(OutboxRow.entity_id)).in_(list(keys))
        )
    ).all()) if keys else set()
    records = {
        (r.entity_type, r.entity_id): r for r in session.exec(
            select(SyncRecordRow).where(
                tuple_(col(SyncRecordRow.entity_type), col(SyncRecordRow.entity_id)).in_(
                    list(keys))
            )
        ).all()
    } if keys else {}
    touched: dict[str, set[UUID]] = {}
    rejected = 0
    for row in sorted(rows, key=lambda r: r.seq or 0):
        result = answers[row.id]
        key = (row.entity_type, row.entity_id)
        record = records.get(key)
        if record is None:
            record = records[key] = SyncRecordRow(entity_type=key[0], entity_id=key[1])
        if result.status == "applied":
            if result.version is not None and (record.server_version or 0) < result.version:
                record.server_version = result.version
            if record.state != SyncState.REJECTED.value and key not in still_queued:
                record.state = SyncState.SYNCED.value
        else:
            rejected += 1
            record.state = SyncState.REJECTED.value
            record.message = result.message or "The server refused this change."
        session.add(record)
        touched.setdefault(row.entity_type, set()).add(row.entity_id)
    session.flush()
    return Resolved(touched, rejected)


def discard_queued(session: Session, entity_type: str, entity_id: UUID) -> None:
    """Drop the record's changes that were never sent (sent ones must still be answered)."""
    session.execute(
        delete(OutboxRow).where(
            col(OutboxRow.entity_type) == entity_type,
            col(OutboxRow.entity_id) == entity_id,
            col(OutboxRow.sent).is_(False),
        )
    )
