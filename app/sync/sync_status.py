"""What the status bar shows about the sync: online / offline / syncing, pending, last sync."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class Connection(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    SYNCING = "syncing"
    SIGNED_OUT = "signed_out"
    #: The server refuses to sync with this desktop (an old protocol, a role that may not sync).
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class SyncStatus:
    connection: Connection = Connection.OFFLINE
    pending: int = 0
    rejected: int = 0
    #: When the last pull and push both succeeded (server time).
    last_sync: datetime | None = None
    #: Why offline or refused, in a sentence.
    message: str = ""
    #: (cursor reached, head of the server's log) during a pull; None when not pulling.
    progress: tuple[int, int] | None = None

    def but(self, **changes: object) -> "SyncStatus":
        return replace(self, **changes)  # type: ignore[arg-type]
