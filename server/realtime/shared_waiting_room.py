"""Who is in the waiting room, shared by every server process on PostgreSQL.

Each open page is a row (presence_page) naming its process; each appointment with pages is a
row (presence_room) holding what was last announced. A change takes the room's row lock, so
two processes never announce the same arrival, and decides from the pages that count: open on a
live process (server/realtime/process_lease.py), or closed less than the grace ago (a reload is
no leaving). Every process sweeps once a second (SKIP LOCKED: each room by one of them) for
rooms whose count changed without anyone there to tell: a grace that ran out, or a process
that died with its pages. The announcement is a NOTIFY in the same transaction.

A page that closed means the patient left: the visit (their arrival) ends. Pages lost with a
dead or stopping process do not: the patient's page reconnects to another process, and goes on
from the same arrival (server/services/waiting_visits.py).
"""

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Engine, text
from sqlmodel import Session

from server.integration.hl7_outbound_sender import OutboundSender
from server.realtime.hub import Hub
from server.realtime.process_lease import RENEW_SECONDS, ProcessLease, alive
from server.services import waiting_visits
from server.services.presence import publish_presence
from server.session_effects import ServerSession
from shared.realtime_protocol import PresenceState

log = logging.getLogger("clinicdesk.server.realtime")

#: A page whose server process stops gracefully counts this long (it reconnects elsewhere).
RESTART_WINDOW_SECONDS = 10.0
#: How often a waiting patient's visit is marked as still heard in the database.
HEARD_EVERY = timedelta(minutes=1)
#: Rooms settled per sweep at most (the rest wait for the next second).
SWEEP_BATCH = 200

_LIVE = f"(p.until > now() OR (p.until IS NULL AND {alive('p.process_id')}))"
_COUNT = (
    "SELECT count(DISTINCT p.person) FROM presence_page p "
    f"WHERE p.appointment_id = :a AND {_LIVE}"
)
_PERSONS = (
    "SELECT DISTINCT p.person FROM presence_page p "
    f"WHERE p.appointment_id = :a AND {_LIVE}"
)
_UNSETTLED = (
    "SELECT r.appointment_id FROM presence_room r WHERE r.people <> ("
    f"SELECT count(DISTINCT p.person) FROM presence_page p "
    f"WHERE p.appointment_id = r.appointment_id AND {_LIVE}) "
    "OR EXISTS (SELECT 1 FROM presence_page p "
    f"WHERE p.appointment_id = r.appointment_id AND NOT {_LIVE}) "
    "LIMIT :batch FOR UPDATE SKIP LOCKED"
)

T = TypeVar("T")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def keep_message(session: Session, appointment_id: UUID, message: str, keep: int = 10) -> None:
    """Keep a clinician's message (serialized) in the room's row for pages that connect later
    (PostgreSQL; in the caller's transaction). Nobody waiting: nothing to keep."""
    kept = session.execute(
        text("SELECT messages FROM presence_room WHERE appointment_id = :a FOR UPDATE"),
        {"a": appointment_id},
    ).scalar_one_or_none()
    if kept is None:
        return
    messages = [*json.loads(kept), message][-keep:]
    session.execute(
        text("UPDATE presence_room SET messages = :m WHERE appointment_id = :a"),
        {"m": json.dumps(messages), "a": appointment_id},
    )


@dataclass(slots=True)
class _Page:
    appointment_id: UUID
    person: int
    since: datetime
    heard_at: datetime


class SharedWaitingRoom:
    """The waiting room of every process on one PostgreSQL database (the same calls as
    server/realtime/waiting_room.py's WaitingRoom)."""

    def __init__(
        self,
        engine: Engine,
        hub: Hub,
        now: Callable[[], datetime],
        grace: float,
        resume: timedelta,
        lease: ProcessLease,
        outbound: OutboundSender | None = None,
    ) -> None:
        self._engine = engine
        self._hub = hub
        #: Tells the hospital's system of a new arrival (hl7_outbound), when set up.
        self._outbound = outbound
        self._now = now
        self._grace = grace
        self._resume = resume
        self.lease = lease
        #: This process's open pages, to put back should its lease have lapsed meanwhile.
        self._pages: dict[UUID, _Page] = {}
        # The lease must be renewed on time even when every worker thread is busy.
        self._keeper = ThreadPoolExecutor(1, thread_name_prefix="presence-lease")

    async def _off_loop(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(work, *args)

    # -- the pages' calls ------------------------------------------------------------------

    async def enter(
        self, appointment_id: UUID, person: int = 0, page: UUID | None = None
    ) -> datetime:
        """A page of `person` connected: counted, and announced when it changes the count."""
        assert page is not None
        since = await self._off_loop(self._enter, appointment_id, person, page)
        now = self._now()
        self._pages[page] = _Page(appointment_id, person, since, now)
        return since

    async def heard(self, appointment_id: UUID, page: UUID | None = None) -> None:
        """A page answered a heartbeat: its visit is marked as live now and then."""
        mine = [p for key, p in self._pages.items() if p.appointment_id == appointment_id
                and (page is None or key == page)]
        now = self._now()
        if not mine or now - mine[0].heard_at < HEARD_EVERY:
            return
        for found in mine:
            found.heard_at = now
        try:
            await self._off_loop(waiting_visits.heard, self._engine, appointment_id,
                                 mine[0].since, now)
        except Exception:
            log.exception("could not mark the waiting-room visit")

    async def leave(
        self,
        appointment_id: UUID,
        person: int = 0,
        page: UUID | None = None,
        *,
        at_once: bool,
        server_stopping: bool = False,
    ) -> None:
        """A page closed: gone at once (silent, or no grace), or counted for the grace; when
        this process is stopping, counted long enough to reconnect to another."""
        assert page is not None
        self._pages.pop(page, None)
        if server_stopping:
            window, closed = RESTART_WINDOW_SECONDS, False
        elif at_once or self._grace <= 0:
            window, closed = 0.0, True
        else:
            window, closed = self._grace, True
        try:
            await self._off_loop(self._leave, appointment_id, page, window, closed)
        except Exception:
            log.exception("could not record a waiting-room page leaving")

    def pages(self, appointment_id: UUID) -> int:
        """How many pages of the appointment are connected to this process."""
        return sum(1 for page in self._pages.values() if page.appointment_id == appointment_id)

    def persons(self, appointment_id: UUID) -> frozenset[int]:
        """Whose pages of the appointment are open on any process (link recipients; pages
        within their grace too). Blocking: called from a route's worker thread."""
        with Session(self._engine) as session:
            found = session.execute(text(_PERSONS), {"a": appointment_id}).scalars().all()
        return frozenset(int(person) for person in found)

    async def everyone(self) -> dict[UUID, tuple[datetime, int]]:
        """Every appointment announced as waiting: since when, how many people."""
        return await self._off_loop(self._everyone)

    async def messages(self, appointment_id: UUID) -> list[str]:
        """The clinician's messages kept for a page that reloads (stored by keep_message)."""
        return await self._off_loop(self._messages, appointment_id)

    def remember(self, appointment_id: UUID, message: str) -> None:
        """Nothing: the message was kept in the room's row when it was sent (keep_message)."""

    # -- the sweep ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Take this process's lease before serving (a page must name a live process)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._keeper, self.lease.register)

    async def run(self, stop: asyncio.Event) -> None:
        """Renew the lease and settle the rooms whose count changed, once a second."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await loop.run_in_executor(self._keeper, self._sweep)
            except Exception as error:  # the database may be away: try again next second
                log.warning("the waiting-room sweep failed (%s)", type(error).__name__)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RENEW_SECONDS)

    async def close(self) -> None:
        """A graceful stop: this process's pages count a while longer, its lease ends."""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._keeper, self._end)
        except Exception:
            log.exception("could not hand the waiting room over")
        self._keeper.shutdown(wait=False)

    # -- in a worker thread ------------------------------------------------------------------

    def _session(self) -> Session:
        return ServerSession(self._engine, hub=self._hub, hl7_outbound=self._outbound)

    def _lock_room(self, session: Session, appointment_id: UUID) -> Any:
        session.execute(
            text(
                "INSERT INTO presence_room (appointment_id, people, messages) "
                "VALUES (:a, 0, '[]') ON CONFLICT DO NOTHING"
            ),
            {"a": appointment_id},
        )
        return session.execute(
            text("SELECT since, people FROM presence_room WHERE appointment_id = :a FOR UPDATE"),
            {"a": appointment_id},
        ).one()

    def _enter(self, appointment_id: UUID, person: int, page: UUID) -> datetime:
        with self._session() as session:
            room = self._lock_room(session, appointment_id)
            session.execute(
                text(
                    "INSERT INTO presence_page (id, appointment_id, person, process_id, closed) "
                    "VALUES (:id, :a, :person, :process, false) ON CONFLICT (id) DO UPDATE "
                    "SET until = NULL, closed = false, process_id = excluded.process_id"
                ),
                {"id": page, "a": appointment_id, "person": person, "process": self.lease.id},
            )
            since = _utc(room.since)
            if since is None:
                since = waiting_visits.arrive_in(
                    session, appointment_id, self._now(), self._resume
                )
                session.execute(
                    text("UPDATE presence_room SET since = :since WHERE appointment_id = :a"),
                    {"since": since, "a": appointment_id},
                )
            self._settle(session, appointment_id, since, room.people)
            session.commit()
            return since

    def _leave(self, appointment_id: UUID, page: UUID, window: float, closed: bool) -> None:
        with self._session() as session:
            room = session.execute(
                text("SELECT since, people FROM presence_room WHERE appointment_id = :a "
                     "FOR UPDATE"),
                {"a": appointment_id},
            ).one_or_none()
            if room is None:
                session.rollback()
                return
            session.execute(
                text(
                    "UPDATE presence_page SET until = now() + make_interval(secs => :window), "
                    "closed = :closed WHERE id = :id"
                ),
                {"id": page, "window": window, "closed": closed},
            )
            if window <= 0:
                self._settle(session, appointment_id, _utc(room.since), room.people)
            session.commit()

    def _settle(
        self, session: Session, appointment_id: UUID, since: datetime | None, announced: int
    ) -> None:
        """Announce the room's count if it changed (the room's row is locked); drop its pages
        that no longer count, and the room when none is left."""
        people = int(session.execute(text(_COUNT), {"a": appointment_id}).scalar_one())
        if people == 0:
            left = session.execute(
                text(f"SELECT bool_or(p.closed) FROM presence_page p "
                     f"WHERE p.appointment_id = :a AND NOT {_LIVE}"),
                {"a": appointment_id},
            ).scalar_one()
            session.execute(
                text("DELETE FROM presence_room WHERE appointment_id = :a"), {"a": appointment_id}
            )
            now = self._now()
            if left:
                waiting_visits.leave_in(session, appointment_id)
            elif since is not None:
                # Lost with its process: kept, so a reconnection goes on from the arrival.
                waiting_visits.heard_in(session, appointment_id, since, now)
            if announced > 0:
                publish_presence(session, appointment_id, PresenceState.LEFT, now, 0)
            return
        session.execute(
            text(f"DELETE FROM presence_page p WHERE p.appointment_id = :a AND NOT {_LIVE}"),
            {"a": appointment_id},
        )
        if people != announced and since is not None:
            session.execute(
                text("UPDATE presence_room SET people = :people WHERE appointment_id = :a"),
                {"people": people, "a": appointment_id},
            )
            publish_presence(session, appointment_id, PresenceState.ENTERED, since, people)

    def _sweep(self) -> None:
        with self._session() as session:
            connection = session.connection()
            if not self.lease.renew(connection):
                log.warning("this process's presence lease had lapsed; its pages are back")
                for page, held in list(self._pages.items()):
                    session.execute(
                        text(
                            "INSERT INTO presence_room (appointment_id, since, people, messages) "
                            "VALUES (:a, :since, 0, '[]') ON CONFLICT DO NOTHING"
                        ),
                        {"a": held.appointment_id, "since": held.since},
                    )
                    session.execute(
                        text(
                            "INSERT INTO presence_page (id, appointment_id, person, process_id, "
                            "closed) VALUES (:id, :a, :person, :process, false) "
                            "ON CONFLICT (id) DO NOTHING"
                        ),
                        {"id": page, "a": held.appointment_id, "person": held.person,
                         "process": self.lease.id},
                    )
            session.commit()
        with self._session() as session:
            self.lease.forget_dead(session.connection())
            rooms = session.execute(text(_UNSETTLED), {"batch": SWEEP_BATCH}).all()
            for (appointment_id,) in rooms:
                room = session.execute(
                    text("SELECT since, people FROM presence_room WHERE appointment_id = :a"),
                    {"a": appointment_id},
                ).one()
                self._settle(session, appointment_id, _utc(room.since), room.people)
            session.commit()

    def _everyone(self) -> dict[UUID, tuple[datetime, int]]:
        with Session(self._engine) as session:
            rows = session.execute(
                text("SELECT appointment_id, since, people FROM presence_room "
                     "WHERE since IS NOT NULL AND people > 0")
            ).all()
            session.rollback()
        return {row.appointment_id: (row.since.astimezone(UTC), row.people) for row in rows}

    def _messages(self, appointment_id: UUID) -> list[str]:
        with Session(self._engine) as session:
            kept = session.execute(
                text("SELECT messages FROM presence_room WHERE appointment_id = :a"),
                {"a": appointment_id},
            ).scalar_one_or_none()
            session.rollback()
        return list(json.loads(kept)) if kept else []

    def _end(self) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE presence_page SET until = now() + make_interval(secs => :window) "
                    "WHERE process_id = :id AND until IS NULL"
                ),
                {"id": self.lease.id, "window": RESTART_WINDOW_SECONDS},
            )
        self.lease.end()
