"""Step "store": a temporary local store created, migrated to the current schema, and reopened."""

from pathlib import Path

from sqlalchemy import text

from app.selftest.report import StepFailed
from app.store.database import open_engine
from app.store.migrations import SCHEMA_VERSION

EXPECTED_TABLES = {"staff", "location", "patient", "appointment", "participant"}


def check_store(path: Path) -> int:
    engine = open_engine(path)
    try:
        with engine.connect() as connection:
            version = int(connection.execute(text("PRAGMA user_version")).scalar_one())
            tables = {
                str(name) for name in connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'table'")
                ).scalars()
            }
    finally:
        engine.dispose()
    if version != SCHEMA_VERSION:
        raise StepFailed(f"the store is at schema {version}, expected {SCHEMA_VERSION}")
    missing = EXPECTED_TABLES - tables
    if missing:
        raise StepFailed(f"the migrated store lacks tables: {', '.join(sorted(missing))}")
    return version


def run(scratch: Path) -> str:
    path = scratch / "store" / "selftest.sqlite3"
    check_store(path)
    # Opening it again must find it current and change nothing.
    return f"v{check_store(path)}"
