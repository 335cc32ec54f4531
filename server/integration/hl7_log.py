"""The raw HL7 message log: the duplicate check by control id, recording, and pruning (a
batch's messages each in one statement)."""

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text, tuple_
from sqlmodel import Session, col, delete, select

from server.models.hl7_message import Hl7Message

#: Advisory-lock namespace (PostgreSQL) for one sender's control id: two connections carrying
#: the same resent message apply it once.
_CONTROL_LOCK_SPACE = 0x0C11_0003
#: The log is pruned every this many messages (a cheap DELETE by primary key).
_PRUNE_EVERY = 100


def lock(session: Session, space: int, key: str) -> None:
    """Hold `key` of `space` until the transaction ends (SQLite serializes writers anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": space, "key": zlib.crc32(key.encode()) & 0x7FFFFFFF},
        )


def applied_acks(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The ACKs sent for these (sender, control id) pairs that were applied (AA) before: one
    query for a whole batch. Each pair is held (PostgreSQL) until the transaction ends, so two
    connections carrying the same resent message apply it once."""
    wanted = list(dict.fromkeys(keys))
    for sender, control_id in wanted:
        lock(session, _CONTROL_LOCK_SPACE, f"{sender}\x00{control_id}")
    if not wanted:
        return {}
    rows = session.exec(
        select(Hl7Message.sender, Hl7Message.control_id, Hl7Message.ack)
        .where(tuple_(col(Hl7Message.sender), col(Hl7Message.control_id)).in_(wanted))
        .where(Hl7Message.ack_code == "AA")
        .order_by(col(Hl7Message.id))
    ).all()
    return {(sender, control_id): ack for sender, control_id, ack in rows}


def entry(
    *,
    at: datetime,
    sender: str,
    control_id: str,
    event: str,
    ack_code: str,
    subject: str,
    error: str,
    raw: str,
    ack: str,
) -> Hl7Message:
    """The log row of one message (written by record_all)."""
    return Hl7Message(
        received_at=at,
        sender=sender[:200],
        control_id=control_id[:200],
        event=event[:32],
        ack_code=ack_code,
        subject=subject[:200],
        error=error[:1000],
        raw=raw,
        ack=ack,
    )


def record_all(session: Session, rows: list[Hl7Message], keep: int) -> None:
    """Log a batch's messages (one multi-row INSERT); prune the oldest past `keep` now and
    then (a cheap DELETE by primary key)."""
    if not rows:
        return
    values = [row.model_dump(exclude={"id"}) for row in rows]
    returned = session.scalars(insert(Hl7Message).returning(col(Hl7Message.id)), values)
    ids = [i for i in returned if i is not None]
    newest, oldest = max(ids), min(ids)
    if newest // _PRUNE_EVERY != (oldest - 1) // _PRUNE_EVERY:
        session.execute(delete(Hl7Message).where(col(Hl7Message.id) <= newest - keep))


def record(session: Session, *, keep: int, **fields: Any) -> None:
    """Log one message (the fields of `entry`)."""
    record_all(session, [entry(**fields)], keep)
