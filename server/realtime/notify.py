"""Telling every server process that changes were committed, with the new cursor.

PostgreSQL: pg_notify inside the writing transaction (delivered only if it commits) and one
LISTEN connection per process that forwards to its hub, so several processes on one database
tell all their desktops. SQLite (one process per file): the session publishes after commit.
"""

import asyncio
import json
import logging
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from server.realtime.hub import Hub

log = logging.getLogger("clinicdesk.server.realtime")

CHANNEL = "clinic_desk_changes"
_CURSOR_KEY = "changes_cursor"
_HUB_KEY = "hub"


def changes_event(cursor: int) -> dict[str, Any]:
    return {"type": "changes", "cursor": cursor}


def attach_hub(session: Session, hub: Hub) -> None:
    """Let this session publish its committed changes to `hub` (SQLite)."""
    session.info[_HUB_KEY] = hub


def changes_written(session: Session, cursor: int) -> None:
    """The transaction wrote changes up to `cursor`; announce them once it commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:channel, :cursor)"),
            {
                "channel": CHANNEL,
                "cursor": str(cursor),
            },
        )
        return
    session.info[_CURSOR_KEY] = max(cursor, int(session.info.get(_CURSOR_KEY, 0)))


def _after_commit(session: OrmSession) -> None:
    cursor = session.info.pop(_CURSOR_KEY, None)
    hub = session.info.get(_HUB_KEY)
    if cursor is not None and isinstance(hub, Hub):
        hub.publish(changes_event(int(cursor)))


def _after_rollback(session: OrmSession) -> None:
    session.info.pop(_CURSOR_KEY, None)


def install_session_events() -> None:
    """Register the SQLite publish-after-commit hooks (idempotent)."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_rollback", _after_rollback)


async def listen(engine: Engine, hub: Hub, stop: asyncio.Event) -> None:
    """Forward this database's NOTIFYs to `hub` until `stop` (PostgreSQL only); reconnects."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    delay = 0.5
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                delay = 0.5
                generator = connection.notifies()
                while not stop.is_set():
                    waiter = asyncio.ensure_future(anext(generator))
                    stopper = asyncio.ensure_future(stop.wait())
                    done, _ = await asyncio.wait(
                        {waiter, stopper}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if waiter not in done:
                        waiter.cancel()
                        break
                    stopper.cancel()
                    notice = waiter.result()
                    hub.publish(changes_event(int(json.loads(notice.payload or "0"))))
        except (psycopg.Error, OSError) as error:
            log.warning("realtime listener lost the database (%s); retrying", error)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, 10.0)
