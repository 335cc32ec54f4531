"""The change log: every write appends the records it touched, in commit order, for pull.

On PostgreSQL a transaction-level advisory lock is taken before the first append, so sequence
numbers are handed out in commit order and a pull never skips a change that commits late.
(SQLite serializes every transaction anyway.)
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, text
from sqlmodel import Session, select

from server.models.sync import Change
from server.realtime import notify

_CHANGE_LOG_LOCK = 0x0C11_0002


def _lock(session: Session) -> None:
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
    """`entity` changed for each scope in `scopes`; it left the view of each of `gone_from`."""
    _lock(session)
    rows = [
        Change(entity_type=entity_type, entity_id=entity_id, scope_id=scope, at=at)
        for scope in dict.fromkeys(scopes)
    ]
    rows += [
        Change(entity_type=entity_type, entity_id=entity_id, scope_id=scope, deleted=True, at=at)
        for scope in dict.fromkeys(gone_from or [])
        if scope not in scopes
    ]
    session.add_all(rows)
    session.flush()
    # The lock (or SQLite's single writer) keeps anyone else from appending meanwhile, so the
    # newest of these rows is the log's head: no SELECT max(seq) per write.
    newest = max((row.seq for row in rows if row.seq is not None), default=None)
    notify.changes_written(session, newest if newest is not None else head(session))


def head(session: Session) -> int:
    """The newest sequence number (0 when nothing changed yet)."""
    newest = session.exec(select(func.max(Change.seq))).one()
    return int(newest or 0)
