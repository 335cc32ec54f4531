"""The change log: every write appends the records it touched, in commit order, for pull.

`record` only notes the rows; they are written just before the transaction commits, all at
once. On PostgreSQL a transaction-level advisory lock is taken right then, so sequence numbers
are handed out in commit order and a pull never skips a change that commits late; holding
that one global lock only for the append and the commit (not from the first write of a
transaction, across its other statements) is what lets concurrent pushes go on in parallel
(docs/deploy.md, Throughput). SQLite serializes every transaction anyway.

Rows noted inside a savepoint that rolls back are dropped with it.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import event, func, insert, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from server.models.sync import Change
from server.realtime import notify

_CHANGE_LOG_LOCK = 0x0C11_0002
#: session.info key: the rows noted by this transaction, each with the transaction it was in.
_PENDING = "clinicdesk.changes.pending"

_Noted = tuple[SessionTransaction | None, dict[str, Any]]


def _lock(session: OrmSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHANGE_LOG_LOCK})


def record(
    session: Session,
    entity_type: str,
    entity_id: UUID,
    scopes: list[UUID | None],
    at: datetime,
    *,
    gone_from: list[UUID] | None = None,
) -> None:
    """`entity` changed for each scope in `scopes`; it left the view of each of `gone_from`.

    Appended to the log when the transaction commits (and only if it does).
    """
    rows = [
        dict(entity_type=entity_type, entity_id=entity_id, scope_id=scope, deleted=False, at=at)
        for scope in dict.fromkeys(scopes)
    ]
    rows += [
        dict(entity_type=entity_type, entity_id=entity_id, scope_id=scope, deleted=True, at=at)
        for scope in dict.fromkeys(gone_from or [])
        if scope not in scopes
    ]
    within = session.get_nested_transaction() or session.get_transaction()
    noted: list[_Noted] = session.info.setdefault(_PENDING, [])
    noted.extend((within, row) for row in rows)


def pending(session: Session) -> int:
    """How many change rows this session's open transaction will append when it commits."""
    return len(session.info.get(_PENDING, []))


def _append(session: OrmSession) -> None:
    """Before the outermost commit: write the noted rows under the log's lock, announce them."""
    if session.in_nested_transaction():
        return  # a savepoint is released; its rows wait for the real commit
    noted: list[_Noted] = session.info.pop(_PENDING, [])
    if not noted:
        return
    session.flush()  # the records' own rows first: the lock is held only for what follows
    rows = list({tuple(row.items()): row for _, row in noted}.values())
    _lock(session)
    seqs = session.scalars(insert(Change).returning(col(Change.seq)), rows).all()
    # The lock (or SQLite's single writer) keeps anyone else from appending until this commit
    # ends, so the newest of these rows is the log's head.
    notify.changes_written(session, max(seq for seq in seqs if seq is not None))


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _forget(session: OrmSession, ended: SessionTransaction) -> None:
    """A (sub)transaction rolled back: drop the rows noted inside it (all, for the outermost)."""
    noted: list[_Noted] | None = session.info.get(_PENDING)
    if not noted:
        return
    if ended.parent is None:
        noted.clear()
    else:
        noted[:] = [entry for entry in noted if not _within(entry[0], ended)]


if not event.contains(OrmSession, "before_commit", _append):
    event.listen(OrmSession, "before_commit", _append)
    event.listen(OrmSession, "after_soft_rollback", _forget)


def head(session: Session) -> int:
    """The newest sequence number (0 when nothing changed yet)."""
    newest = session.exec(select(func.max(Change.seq))).one()
    return int(newest or 0)
