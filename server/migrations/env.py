"""Alembic environment: runs on the connection server.schema hands over (never from a URL here)."""

from alembic import context
from sqlalchemy import Connection

import server.models  # noqa: F401  (registers every table on the metadata)
from server.models.base import ServerTable

target_metadata = ServerTable.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through `clinic-desk-server migrate`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
