"""The location table: a hospital site with its address and time zone."""

from uuid import UUID, uuid4

from sqlmodel import Field

from server.models.base import ServerTable
from shared.schemas import LocationBase


class Location(LocationBase, ServerTable, table=True):
    __tablename__ = "location"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
