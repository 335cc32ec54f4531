"""The audit log: who did or read what, when, and from which address. Rows are never changed."""

from datetime import datetime
from uuid import UUID

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime


class AuditEvent(ServerTable, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    #: None when nobody was signed in (a failed login).
    actor_id: UUID | None = Field(default=None, foreign_key="user_account.id", index=True)
    action: str = Field(max_length=64, index=True)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(default="", max_length=64, index=True)
    address: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=2000)
