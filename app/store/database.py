"""Opening the local SQLite file: where it lives, WAL mode, foreign keys, migrations."""

import sqlite3
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from app.store.errors import StoreUnavailable
from app.store.migrations import migrate

APP_NAME = "ClinicDesk"


def default_data_dir() -> Path:
    """The platform's per-user app-data folder (e.g. ~/.local/share/ClinicDesk on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a transaction the user was told is saved survives a power cut too (NORMAL in WAL
    # mode may lose the last commits). See docs/sync.md, "Durability".
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def open_engine(path: Path) -> Engine:
    """An engine on the store file at `path`, created and migrated to the current schema."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(f"Cannot create the data folder {path.parent}: {exc}") from exc
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    try:
        with engine.connect() as connection:
            migrate(connection)
    except OperationalError as exc:
        engine.dispose()
        raise StoreUnavailable(f"Cannot open the local store {path}: {exc.orig}") from exc
    return engine
