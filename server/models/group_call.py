"""A group call's own state on the server: locked, ended, and who asked, was admitted or removed."""

from datetime import datetime
from uuid import UUID

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime


class GroupCallRoom(ServerTable, table=True):
    """The clinician's decisions about an appointment's group call (none: open to its people)."""

    __tablename__ = "group_call_room"

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True, ondelete="CASCADE")
    #: Nobody new gets in: only those who joined before may come back.
    locked: bool = False
    #: Ended for everyone: no credential opens the rooms again.
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GroupCallMember(ServerTable, table=True):
    """Someone who asked to join the call (`member`: "guest-3", "staff-<id>"); a guest is given
    a credential once the clinician admitted them (staff at once)."""

    __tablename__ = "group_call_member"

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True, ondelete="CASCADE")
    member: str = Field(primary_key=True, max_length=64)
    #: When they first asked to join (a guest then waits to be admitted).
    joined_at: datetime = Field(sa_type=UTCDateTime)
    #: Let in by the clinician (staff: at once); None: waiting to be admitted.
    admitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Removed by the clinician: their link no longer opens this call.
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
