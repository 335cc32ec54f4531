"""Who has taken each appointment's call, in this process's memory: the first desktop to offer.

A second clinician's offer for the same appointment is refused until the first hangs up or
its desktop disconnects. This is the store of one process (SQLite); several processes on
PostgreSQL share server/realtime/shared_call_owners.py (the same calls, `CallOwnership`).
"""

import threading
from typing import Protocol
from uuid import UUID


class CallOwnership(Protocol):
    """Where call owners are kept: memory (one process) or PostgreSQL (several)."""

    def claim(self, appointment_id: UUID, connection_id: UUID, user_id: UUID) -> UUID | None: ...

    def release(self, appointment_id: UUID, connection_id: UUID | None = None) -> None: ...

    def forget_connection(self, connection_id: UUID) -> None: ...


class CallOwners:
    """appointment -> (connection, user) of the desktop in the call; thread-safe (the relay
    runs in worker threads)."""

    def __init__(self) -> None:
        self._owners: dict[UUID, tuple[UUID, UUID]] = {}
        self._lock = threading.Lock()

    def claim(self, appointment_id: UUID, connection_id: UUID, user_id: UUID) -> UUID | None:
        """Take the call for this connection; the user who has it instead, when taken."""
        with self._lock:
            owner = self._owners.get(appointment_id)
            if owner is not None and owner[0] != connection_id:
                return owner[1]
            self._owners[appointment_id] = (connection_id, user_id)
            return None

    def release(self, appointment_id: UUID, connection_id: UUID | None = None) -> None:
        """The call ended (a hangup from its desktop, or from the patient: `None`)."""
        with self._lock:
            owner = self._owners.get(appointment_id)
            if owner is not None and (connection_id is None or owner[0] == connection_id):
                del self._owners[appointment_id]

    def forget_connection(self, connection_id: UUID) -> None:
        """A desktop went away: the calls it held are free again."""
        with self._lock:
            for appointment_id, owner in list(self._owners.items()):
                if owner[0] == connection_id:
                    del self._owners[appointment_id]
