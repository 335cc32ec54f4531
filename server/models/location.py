"""The location table: a hospital site with its address and time zone."""

from uuid import UUID, uuid4

from sqlmodel import Field

from app.domain.schemas import LocationBase
from server.models.base import ServerTable


class Location(LocationBase, ServerTable, table=True):
    __tablename__ = "location"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
