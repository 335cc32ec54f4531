"""Telling every server process's hub about committed changes, presence, signals, revocations.

PostgreSQL: pg_notify inside the writing transaction (delivered only if it commits) and one
LISTEN connection per process that forwards to its hub, so several processes on one database
tell all their desktops. SQLite (one process per file): a ServerSession made with the hub
(server/session_effects.py) dispatches after commit.
A payload above PostgreSQL's NOTIFY limit travels in numbered parts within one transaction.
"""

import asyncio
import logging
from contextlib import suppress
from uuid import uuid4

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from server.realtime.delivery import Delivery, Item, from_wire, to_wire
from server.realtime.hub import Hub
from server.session_effects import effects_of
from shared.realtime_protocol import ChangesEvent

log = logging.getLogger("clinicdesk.server.realtime")

CHANNEL = "clinic_desk_realtime"
#: PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; parts stay well below.
_PART_SIZE = 7000
_PART_MARK = "~"
#: Parts of unfinished payloads kept at most (a listener that missed the rest forgets them).
_MAX_PENDING = 64


def _is_postgres(session: OrmSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _notify(session: OrmSession, item: Item) -> None:
    payload = to_wire(item)
    if len(payload) <= _PART_SIZE:
        parts = [payload]
    else:
        name = uuid4().hex
        chunks = [payload[i : i + _PART_SIZE] for i in range(0, len(payload), _PART_SIZE)]
        parts = [f"{_PART_MARK}{name}:{n}:{len(chunks)}:{c}" for n, c in enumerate(chunks)]
    for part in parts:
        session.execute(
            text("SELECT pg_notify(:channel, :part)"), {"channel": CHANNEL, "part": part}
        )


def send(session: Session, item: Item) -> None:
    """Hand `item` to every process's hub once this session's transaction commits."""
    if _is_postgres(session):
        _notify(session, item)
    elif (effects := effects_of(session)) is not None:
        effects.outbox.append(item)


def send_now(engine: Engine, hub: Hub, item: Item) -> None:
    """Hand `item` to every process's hub now, outside any request's transaction."""
    if engine.dialect.name == "postgresql":
        with Session(engine) as session:
            _notify(session, item)
            session.commit()
    else:
        hub.dispatch(item)


def changes_written(session: OrmSession, cursor: int) -> None:
    """The transaction wrote changes up to `cursor`; announce them once it commits."""
    if _is_postgres(session):
        _notify(session, Delivery(ChangesEvent(cursor=cursor).model_dump_json()))
        return
    effects = effects_of(session)
    if effects is not None:
        effects.cursor = max(cursor, effects.cursor or 0)


def _after_commit(session: OrmSession) -> None:
    effects = effects_of(session)
    if effects is None:
        return
    cursor, items = effects.cursor, effects.outbox
    effects.cursor, effects.outbox = None, []
    if effects.hub is None:
        return
    if cursor is not None:
        effects.hub.dispatch(Delivery(ChangesEvent(cursor=cursor).model_dump_json()))
    for item in items:
        effects.hub.dispatch(item)


def _after_rollback(session: OrmSession) -> None:
    effects = effects_of(session)
    if effects is not None:
        effects.cursor, effects.outbox = None, []


def install_session_events() -> None:
    """Register the SQLite dispatch-after-commit hooks (idempotent)."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_rollback", _after_rollback)


class _Parts:
    """Reassembles payloads that came in parts (in order, one transaction's NOTIFYs)."""

    def __init__(self) -> None:
        self._pending: dict[str, list[str]] = {}

    def add(self, payload: str) -> str | None:
        """The whole payload once its last part arrived; None before."""
        if not payload.startswith(_PART_MARK):
            return payload
        name, number, total, chunk = payload[1:].split(":", 3)
        parts = self._pending.setdefault(name, [])
        if int(number) != len(parts):
            del self._pending[name]
            raise ValueError("a part is missing")
        parts.append(chunk)
        if len(self._pending) > _MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        if len(parts) < int(total):
            return None
        return "".join(self._pending.pop(name))


def _forward(hub: Hub, parts: _Parts, payload: str) -> None:
    try:
        whole = parts.add(payload)
        if whole is not None:
            hub.dispatch(from_wire(whole))
    except (ValueError, KeyError, TypeError) as error:
        log.warning("ignoring a malformed realtime notification (%s)", error)


async def listen(
    engine: Engine, hub: Hub, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Forward this database's NOTIFYs to `hub` until `stop` (PostgreSQL only); reconnects.

    `ready` is set once the first LISTEN is in place: nothing committed after it is missed.
    """
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    delay = 0.5
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                if ready is not None:
                    ready.set()
                delay = 0.5
                parts = _Parts()
                generator = connection.notifies()
                try:
                    while not stop.is_set():
                        waiter = asyncio.ensure_future(anext(generator))
                        stopper = asyncio.ensure_future(stop.wait())
                        done, _ = await asyncio.wait(
                            {waiter, stopper}, return_when=asyncio.FIRST_COMPLETED
                        )
                        if waiter not in done:
                            waiter.cancel()
                            with suppress(asyncio.CancelledError, Exception):
                                await waiter
                            break
                        stopper.cancel()
                        _forward(hub, parts, waiter.result().payload or "")
                finally:
                    # notifies() holds the connection's lock while it is suspended (also after
                    # yielding a notification): close it, or leaving the connection waits for
                    # that lock forever (a NOTIFY arriving just as the server stops).
                    with suppress(Exception):
                        await generator.aclose()
        except (psycopg.Error, OSError) as error:
            log.warning("realtime listener lost the database (%s); retrying", error)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, 10.0)
