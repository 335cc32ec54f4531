"""What the server answers "applied" is on disk: SQLite with synchronous=FULL."""

from pathlib import Path

from server.database import create_db_engine


def test_the_sqlite_database_syncs_every_commit(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'server.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()
