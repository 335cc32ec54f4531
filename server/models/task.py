"""The task table: a to-do for one user, maybe about one appointment."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime
from shared.schemas import TaskBase


class Task(TaskBase, ServerTable, table=True):
    __tablename__ = "task"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    appointment_id: UUID | None = Field(
        default=None, foreign_key="appointment.id", ondelete="SET NULL"
    )
    assignee_id: UUID = Field(foreign_key="user_account.id", index=True)
    created_by_id: UUID = Field(foreign_key="user_account.id")
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
