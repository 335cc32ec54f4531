"""The server's own table registry, apart from the desktop store's tables of the same names."""

from sqlalchemy import MetaData
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

#: Named constraints, so that Alembic migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ServerTable(SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING))):
    """Base of every server table; its `metadata` is what Alembic migrates."""
