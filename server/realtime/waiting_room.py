"""Who is in the waiting room, in this process's memory: presence per appointment, not per tab.

The first page of an appointment to connect announces "entered"; "left" is announced when the
last one is gone: at once when its heartbeat stopped, after a short grace when it closed (a
reload closes and reconnects, and must not look like leaving). A second tab or a reload never
announces "entered" twice. This is the store of one process (SQLite); several processes on
PostgreSQL share server/realtime/shared_waiting_room.py instead. The arrival itself is kept in
the database (Visits): a page that reconnects after a server restart goes on from its first
arrival.

A group appointment's people (the patient and each participant, one link each) are counted
too: a second person arriving, or one of several leaving (after the same grace), is announced
as "entered" again with the new count, so the schedule can say "3 of 8 waiting".
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from shared.realtime_protocol import PresenceState

log = logging.getLogger("clinicdesk.server.realtime")

#: Announces presence and how many people of the appointment are there (publish and commit;
#: the caller runs it off the loop if it blocks).
Publisher = Callable[[UUID, PresenceState, datetime, int], Awaitable[None]]

#: How often a waiting patient's visit is marked as still heard in the database.
HEARD_EVERY = timedelta(minutes=1)


class Visits(Protocol):
    """Where arrivals outlive this process (server/services/waiting_visits.py)."""

    async def arrive(self, appointment_id: UUID, now: datetime) -> datetime: ...

    async def heard(self, appointment_id: UUID, arrived_at: datetime, now: datetime) -> None: ...

    async def leave(self, appointment_id: UUID) -> None: ...


@dataclass
class _Room:
    pages: int = 0
    since: datetime | None = None
    leaving: asyncio.Task[None] | None = None
    messages: list[str] = field(default_factory=list)
    heard_at: datetime | None = None
    #: Open pages per person (the link's recipient: 0 the patient, n the n-th participant).
    people: dict[int, int] = field(default_factory=dict)
    #: People whose last page closed, counted until the grace is over (a reload).
    going: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    #: The count last announced.
    counted: int = 0

    def present(self) -> int:
        return sum(1 for person, pages in self.people.items() if pages > 0 or person in self.going)


class WaitingRoom:
    """Counts the open pages per appointment and announces entering and leaving in order."""

    #: Messages from the clinician kept for a page that reloads.
    KEEP_MESSAGES = 10

    def __init__(
        self, publish: Publisher, now: Callable[[], datetime], grace: float, visits: Visits
    ) -> None:
        self._publish = publish
        self._now = now
        self._grace = grace
        self._visits = visits
        self._rooms: dict[UUID, _Room] = {}
        self._lock = asyncio.Lock()
        # Arriving and leaving one at a time: two pages that connect together are one arrival,
        # and a leave's delete never lands after the next arrival read the visit.
        self._doors = asyncio.Lock()

    def present(self, appointment_id: UUID) -> bool:
        room = self._rooms.get(appointment_id)
        return room is not None and room.since is not None

    def pages(self, appointment_id: UUID) -> int:
        """How many pages of the appointment are connected to this process."""
        room = self._rooms.get(appointment_id)
        return 0 if room is None else room.pages

    def people(self, appointment_id: UUID) -> int:
        """How many people of the appointment have a page open (or closed within the grace)."""
        room = self._rooms.get(appointment_id)
        return 0 if room is None else room.present()

    def persons(self, appointment_id: UUID) -> frozenset[int]:
        """Whose pages of the appointment are open (link recipients; within the grace too)."""
        room = self._rooms.get(appointment_id)
        if room is None:
            return frozenset()
        # A snapshot taken in one step: routes in worker threads read it while the loop writes.
        people, going = list(room.people.items()), set(room.going)
        return frozenset(person for person, pages in people if pages > 0 or person in going)

    def since(self, appointment_id: UUID) -> datetime | None:
        room = self._rooms.get(appointment_id)
        return None if room is None else room.since

    async def everyone(self) -> dict[UUID, tuple[datetime, int]]:
        """Every appointment whose patient is in the waiting room now: since when, how many."""
        return {
            key: (room.since, max(1, room.present()))
            for key, room in self._rooms.items()
            if room.since is not None
        }

    async def messages(self, appointment_id: UUID) -> list[str]:
        room = self._rooms.get(appointment_id)
        return [] if room is None else list(room.messages)

    def remember(self, appointment_id: UUID, message: str) -> None:
        """Keep a clinician's message (already serialized) for pages that connect later."""
        room = self._rooms.get(appointment_id)
        if room is not None:
            room.messages = [*room.messages, message][-self.KEEP_MESSAGES :]

    async def start(self) -> None:
        """Nothing to take before serving (the shared store takes its lease)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Nothing to keep up in memory (the shared store renews its lease here)."""

    async def enter(
        self, appointment_id: UUID, person: int = 0, page: UUID | None = None
    ) -> datetime:
        """A page of `person` connected: "entered" if nobody of the appointment was there, or
        again with the new count when `person` is one more of a group's people; the arrival."""
        async with self._doors:
            room = self._rooms.setdefault(appointment_id, _Room())
            room.pages += 1
            room.people[person] = room.people.get(person, 0) + 1
            going = room.going.pop(person, None)
            if going is not None:
                going.cancel()
            if room.leaving is not None:
                room.leaving.cancel()
                room.leaving = None
            if room.since is not None:
                if room.present() == room.counted:
                    return room.since  # another tab, or a reload within the grace
            else:
                now = self._now()
                try:
                    room.since = await self._visits.arrive(appointment_id, now)
                except Exception:
                    log.exception("could not read the waiting-room visit")
                    room.since = now
                room.heard_at = now
            since = room.since
        await self._announce(appointment_id, PresenceState.ENTERED, since)
        return since

    async def heard(self, appointment_id: UUID) -> None:
        """A page answered a heartbeat: its visit is marked as live now and then."""
        room = self._rooms.get(appointment_id)
        now = self._now()
        if room is None or room.since is None:
            return
        if room.heard_at is not None and now - room.heard_at < HEARD_EVERY:
            return
        room.heard_at = now
        await self._store_heard(appointment_id, room.since, now)

    async def _store_heard(self, appointment_id: UUID, since: datetime, now: datetime) -> None:
        try:
            await self._visits.heard(appointment_id, since, now)
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
        """A page of `person` disconnected: "left" when it was the last, after the grace unless
        `at_once`; one person of several gone is the new count, after the same grace.

        When this server process is stopping the patient has not left: the room is forgotten
        here without "left", and the visit stays stored for the page's reconnection.
        """
        room = self._rooms.get(appointment_id)
        if room is None:
            return
        room.pages -= 1
        room.people[person] = room.people.get(person, 1) - 1
        if room.people[person] <= 0:
            del room.people[person]
            if room.pages > 0 and room.since is not None and not server_stopping:
                await self._person_gone(appointment_id, room, person, at_once)
        if room.pages > 0 or room.since is None:
            return
        if server_stopping:
            if room.leaving is not None:
                room.leaving.cancel()
            del self._rooms[appointment_id]
            # Live until now: the restarted server resumes the visit from its first arrival.
            await self._store_heard(appointment_id, room.since, self._now())
        elif at_once or self._grace <= 0:
            await self._gone(appointment_id)
        elif room.leaving is None:
            room.leaving = asyncio.ensure_future(self._leave_later(appointment_id))

    async def _person_gone(
        self, appointment_id: UUID, room: _Room, person: int, at_once: bool
    ) -> None:
        """One of several people closed their last page: the new count, after the grace."""
        if at_once or self._grace <= 0:
            if room.present() != room.counted:
                await self._announce(appointment_id, PresenceState.ENTERED, room.since)
            return
        room.going[person] = asyncio.ensure_future(self._person_later(appointment_id, person))

    async def _person_later(self, appointment_id: UUID, person: int) -> None:
        await asyncio.sleep(self._grace)
        room = self._rooms.get(appointment_id)
        if room is None or room.going.get(person) is not asyncio.current_task():
            return
        del room.going[person]
        if room.since is not None and room.pages > 0 and room.present() != room.counted:
            await self._announce(appointment_id, PresenceState.ENTERED, room.since)

    async def _leave_later(self, appointment_id: UUID) -> None:
        await asyncio.sleep(self._grace)
        room = self._rooms.get(appointment_id)
        if room is not None and room.leaving is asyncio.current_task():
            room.leaving = None
            await self._gone(appointment_id)

    async def _gone(self, appointment_id: UUID) -> None:
        async with self._doors:
            room = self._rooms.get(appointment_id)
            if room is None or room.pages > 0 or room.since is None:
                return
            del self._rooms[appointment_id]
            try:
                await self._visits.leave(appointment_id)
            except Exception:
                log.exception("could not end the waiting-room visit")
        await self._announce(appointment_id, PresenceState.LEFT, self._now())

    async def _announce(
        self, appointment_id: UUID, state: PresenceState, at: datetime | None
    ) -> None:
        assert at is not None
        # One at a time, in the order decided: "left" never overtakes its "entered".
        async with self._lock:
            room = self._rooms.get(appointment_id)
            people = 0 if room is None or state is PresenceState.LEFT else room.present()
            if room is not None:
                room.counted = people
            try:
                await self._publish(appointment_id, state, at, people)
            except Exception:
                log.exception("could not announce presence")

    async def close(self) -> None:
        """Server shutdown: stop the pending leaves."""
        for room in self._rooms.values():
            if room.leaving is not None:
                room.leaving.cancel()
            for going in room.going.values():
                going.cancel()
