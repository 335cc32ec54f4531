"""Alembic: `migrate` on an empty database builds exactly the tables the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from server.database import create_db_engine
from server.models.base import ServerTable
from server.schema import current_revision, head_revision, is_current, upgrade


def _empty(url: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as connection:
        ServerTable.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def test_migrate_on_an_empty_database_matches_the_models(database_url: str) -> None:
    _empty(database_url)
    engine = create_db_engine(database_url)
    assert current_revision(engine) is None
    assert not is_current(engine)

    assert upgrade(engine) == head_revision()
    assert upgrade(engine) == head_revision()  # a second run changes nothing

    assert is_current(engine)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(ServerTable.metadata.tables)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, ServerTable.metadata) == []
    engine.dispose()
