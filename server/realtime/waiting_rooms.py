"""The waiting room's one interface, kept in one of two stores: this process's memory (SQLite,
one process: server/realtime/waiting_room.py) or PostgreSQL (several processes:
server/realtime/shared_waiting_room.py). The patient socket and the desktops' greeting use it.
"""

import asyncio
from datetime import datetime
from typing import Protocol
from uuid import UUID


class WaitingRooms(Protocol):
    """Pages of appointments coming and going, announced as presence once per appointment."""

    async def start(self) -> None:
        """Before serving."""

    async def run(self, stop: asyncio.Event) -> None:
        """Keep up until `stop` (the shared store renews its lease and sweeps)."""

    async def enter(
        self, appointment_id: UUID, person: int = 0, page: UUID | None = None
    ) -> datetime:
        """A page (`page`: its connection id) of `person` connected; the patient's arrival."""
        ...

    async def heard(self, appointment_id: UUID) -> None:
        """A page of the appointment answered a heartbeat."""

    async def leave(
        self,
        appointment_id: UUID,
        person: int = 0,
        page: UUID | None = None,
        *,
        at_once: bool,
        server_stopping: bool = False,
    ) -> None:
        """A page closed (silent: `at_once`; or this process is stopping)."""

    def pages(self, appointment_id: UUID) -> int:
        """How many pages of the appointment are connected to this process."""
        ...

    def persons(self, appointment_id: UUID) -> frozenset[int]:
        """Whose pages of the appointment are open (link recipients), on every process."""
        ...

    async def everyone(self) -> dict[UUID, tuple[datetime, int]]:
        """Every appointment whose patient is waiting: since when, how many people."""
        ...

    async def messages(self, appointment_id: UUID) -> list[str]:
        """The clinician's messages kept for a page that reloads."""
        ...

    def remember(self, appointment_id: UUID, message: str) -> None:
        """A message on its way to a page (the memory store keeps it here)."""

    async def close(self) -> None:
        """Server shutdown."""
