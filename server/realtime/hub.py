"""The hub of one server process: its connected desktops, and a thread-safe dispatch to them."""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from server.realtime.call_owners import CallOwners, CallOwnership
from server.realtime.delivery import Delivery, Item, Revocation
from shared.realtime_protocol import CLOSE_SESSION_ENDED, CLOSE_TOKEN_EXPIRED, CLOSE_TOO_SLOW

log = logging.getLogger("clinicdesk.server.realtime")

#: A desktop that does not read its events is dropped once this many wait for it.
QUEUE_LIMIT = 100


@dataclass(eq=False)
class Connection:
    """One open socket: a desktop (user, session, token expiry) or a patient's page."""

    user_id: UUID | None
    family_id: UUID | None = None
    expires_at: datetime | None = None
    #: Set for a patient's waiting-room connection: the appointment it belongs to.
    patient_of: UUID | None = None
    id: UUID = field(default_factory=uuid4)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int = 0
    close_reason: str = ""

    def close(self, code: int, reason: str) -> None:
        """Ask the socket's handler to close with `code` (the first reason given wins)."""
        if not self.closing.is_set():
            self.close_code, self.close_reason = code, reason
            self.closing.set()

    def offer(self, message: str) -> None:
        """Queue `message`; a client that lets QUEUE_LIMIT messages pile up is closed."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("closing a realtime client that does not read its events")
            self.close(CLOSE_TOO_SLOW, "too slow to read events")


class Hub:
    """Fans items out to this process's connections; dispatch() may be called from any thread."""

    def __init__(self, call_owners: CallOwnership | None = None) -> None:
        self._connections: set[Connection] = set()
        self._by_user: dict[UUID, set[Connection]] = {}
        self._patients: dict[UUID, set[Connection]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Which desktop has each appointment's call (a second taker is refused); in memory
        #: unless shared (PostgreSQL: server/realtime/shared_call_owners.py).
        self.call_owners: CallOwnership = call_owners or CallOwners()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def connect(self, user_id: UUID, family_id: UUID, expires_at: datetime) -> Connection:
        connection = Connection(user_id, family_id, expires_at)
        self._connections.add(connection)
        self._by_user.setdefault(user_id, set()).add(connection)
        return connection

    def connect_patient(self, appointment_id: UUID) -> Connection:
        """A patient's waiting-room page (WS /patient/socket): signals and messages reach it."""
        connection = Connection(None, patient_of=appointment_id)
        self._patients.setdefault(appointment_id, set()).add(connection)
        return connection

    def disconnect(self, connection: Connection) -> None:
        self._connections.discard(connection)
        if connection.user_id is not None:  # only desktops take calls
            self.call_owners.forget_connection(connection.id)
        for index, key in (
            (self._by_user, connection.user_id),
            (self._patients, connection.patient_of),
        ):
            if key is not None and key in index:
                index[key].discard(connection)
                if not index[key]:
                    del index[key]

    @property
    def count(self) -> int:
        return len(self._connections)

    def renew(self, connection: Connection, family_id: UUID, expires_at: datetime) -> None:
        """The client signed in again on its socket with a fresh token."""
        connection.family_id, connection.expires_at = family_id, expires_at

    def dispatch(self, item: Item) -> None:
        """Hand `item` to this process's connections (from the loop's thread or any other)."""
        if self._loop is None or self._loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._handle(item)
        else:
            self._loop.call_soon_threadsafe(self._handle, item)

    def _handle(self, item: Item) -> None:
        if isinstance(item, Revocation):
            self._revoke(item)
        else:
            self._fan_out(item)

    def _fan_out(self, delivery: Delivery) -> None:
        # The message was serialized once by the publisher: every socket gets the same text.
        targets: list[Connection] = []
        if delivery.users is None:
            targets.extend(self._connections)
        else:
            for user_id in delivery.users:
                targets.extend(self._by_user.get(user_id, ()))
        if delivery.patient_of is not None:
            targets.extend(self._patients.get(delivery.patient_of, ()))
        for connection in targets:
            if connection.id != delivery.skip:
                connection.offer(delivery.message)

    def _revoke(self, revocation: Revocation) -> None:
        for connection in list(self._connections):
            if (
                revocation.family_id is not None and connection.family_id == revocation.family_id
            ) or (revocation.user_id is not None and connection.user_id == revocation.user_id):
                connection.close(CLOSE_SESSION_ENDED, "the session has ended: sign in again")

    def expire(self, now: datetime) -> None:
        """Close the desktops whose access token has expired by `now` (server time)."""
        for connection in list(self._connections):
            if connection.expires_at is not None and connection.expires_at <= now:
                connection.close(CLOSE_TOKEN_EXPIRED, "the access token expired: refresh it")
