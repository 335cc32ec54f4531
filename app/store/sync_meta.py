"""The sync's own facts in the store: this desktop's client id, the pull cursor, the scope."""

import uuid
from uuid import UUID

from sqlmodel import Session

from app.store.tables import SyncMetaRow

CLIENT_ID = "client_id"
CURSOR = "cursor"
SCOPE = "scope"
GENERATION = "generation"
#: When the last pull and push both succeeded (ISO 8601, server time).
LAST_SYNC = "last_sync"
#: A full re-sync was interrupted: finish it (and drop what did not come back) before anything.
RESYNC = "resync"


def get(session: Session, key: str, default: str = "") -> str:
    row = session.get(SyncMetaRow, key)
    return default if row is None else row.value


def put(session: Session, key: str, value: str) -> None:
    row = session.get(SyncMetaRow, key)
    if row is None:
        session.add(SyncMetaRow(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def get_int(session: Session, key: str) -> int:
    return int(get(session, key, "0") or 0)


def client_id(session: Session) -> UUID:
    """This store's client id, chosen once (the server's exactly-once ledger is keyed on it)."""
    stored = get(session, CLIENT_ID)
    if stored:
        return UUID(stored)
    chosen = uuid.uuid4()
    put(session, CLIENT_ID, str(chosen))
    session.flush()
    return chosen
