"""Database engines by URL: SQLite (WAL, foreign keys, serialized writes) or PostgreSQL (psycopg 3).

On SQLite every transaction starts with BEGIN IMMEDIATE: writers queue on the file lock (up to
the busy timeout) instead of failing half-way, and a transaction's reads see no concurrent write.
Almost every request writes (at least its audit event), so this costs little and makes decisions
such as double booking atomic. On PostgreSQL, per-clinician advisory locks serialize bookings.
"""

import sqlite3
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

#: The advisory-lock namespace (first key of pg_advisory_xact_lock) for a clinician's schedule.
_SCHEDULE_LOCK_SPACE = 0x0C11
_SQLITE_BUSY_MS = 15_000


class BadDatabaseUrl(ValueError):
    """The --database value is neither a SQLite nor a PostgreSQL URL."""


def parse_database_url(url: str) -> URL:
    """The SQLAlchemy URL for `url`; plain postgresql:// gets the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadDatabaseUrl(f"not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if not parsed.database or parsed.database == ":memory:":
            raise BadDatabaseUrl("the server needs a SQLite file, e.g. sqlite:////var/lib/cd.db")
        return parsed
    raise BadDatabaseUrl(
        f"unsupported database {parsed.drivername!r}: use sqlite:///PATH or postgresql://..."
    )


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a push answered "applied" must survive a power cut (the desktop then forgets its
    # copy of the change); WAL's NORMAL may lose the last commits. See docs/sync.md.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created when missing."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def check_database(engine: Engine) -> None:
    """Raise when the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


def _lock_key(clinician_id: UUID) -> int:
    # A 31-bit digest: two clinicians sharing a key only wait for each other a little.
    return zlib.crc32(clinician_id.bytes) & 0x7FFFFFFF


def lock_schedules(session: Session, clinician_ids: Iterable[UUID]) -> None:
    """Hold the clinicians' schedules until the transaction ends (no-op on SQLite, see above)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for key in sorted({_lock_key(clinician_id) for clinician_id in clinician_ids}):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": _SCHEDULE_LOCK_SPACE, "key": key},
        )


#: Advisory-lock namespace (PostgreSQL) for one MRN: two registrations of it are serialized.
_MRN_LOCK_SPACE = 0x0C11_0008


def lock_mrn(session: Session, mrn: str) -> None:
    """Hold `mrn` until the transaction ends (no-op on SQLite, whose writers are serialized)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, :key)"),
        {"space": _MRN_LOCK_SPACE, "key": zlib.crc32(mrn.encode()) & 0x7FFFFFFF},
    )
