"""The hub of one server process: its connected desktops, and a thread-safe publish."""

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

log = logging.getLogger("clinicdesk.server.realtime")

#: A desktop that does not read its events is dropped once this many wait for it.
QUEUE_LIMIT = 100


@dataclass(eq=False)
class Connection:
    user_id: UUID
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    dropped: bool = False


class Hub:
    """Fans events out to this process's connections; publish() may be called from any thread."""

    def __init__(self) -> None:
        self._connections: set[Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def connect(self, user_id: UUID) -> Connection:
        connection = Connection(user_id)
        self._connections.add(connection)
        return connection

    def disconnect(self, connection: Connection) -> None:
        self._connections.discard(connection)

    @property
    def count(self) -> int:
        return len(self._connections)

    def publish(self, event: dict[str, Any]) -> None:
        """Queue `event` for every connection (from the loop's thread or any other)."""
        if self._loop is None or self._loop.is_closed():
            return
        message = json.dumps(event)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._fan_out(message)
        else:
            self._loop.call_soon_threadsafe(self._fan_out, message)

    def _fan_out(self, message: str) -> None:
        for connection in list(self._connections):
            try:
                connection.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("dropping a realtime client that does not read its events")
                connection.dropped = True
                self._connections.discard(connection)
