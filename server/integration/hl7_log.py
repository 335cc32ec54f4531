"""The raw HL7 message log: the duplicate check by control id, recording, and pruning."""

import zlib
from datetime import datetime

from sqlalchemy import text
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


def applied_ack(session: Session, sender: str, control_id: str) -> str | None:
    """The ACK sent for this sender's control id when it was applied (AA) before, else None."""
    lock(session, _CONTROL_LOCK_SPACE, f"{sender}\x00{control_id}")
    return session.exec(
        select(Hl7Message.ack)
        .where(
            Hl7Message.sender == sender,
            Hl7Message.control_id == control_id,
            Hl7Message.ack_code == "AA",
        )
        .order_by(col(Hl7Message.id).desc())
        .limit(1)
    ).first()


def record(
    session: Session,
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
    keep: int,
) -> None:
    row = Hl7Message(
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
    session.add(row)
    session.flush()
    assert row.id is not None
    if row.id % _PRUNE_EVERY == 0:
        session.execute(delete(Hl7Message).where(col(Hl7Message.id) <= row.id - keep))
