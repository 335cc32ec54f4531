"""Each attempt to ring a phone appointment's patient: when, who called, which number, how it
ended (one row per call, updated as it goes)."""

from datetime import datetime
from uuid import UUID

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime


class PhoneAttempt(ServerTable, table=True):
    """One call the server dialled; its id is the call's (`PhoneCall.id`)."""

    __tablename__ = "phone_attempt"

    id: UUID = Field(primary_key=True)
    appointment_id: UUID = Field(foreign_key="appointment.id", index=True, ondelete="CASCADE")
    caller_id: UUID = Field(foreign_key="user_account.id")
    #: The caller's name when they called (a renamed account keeps the history as it was).
    caller_name: str = Field(max_length=200)
    #: The number dialled in E.164: patient data, never logged.
    number: str = Field(max_length=32)
    started_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: None while the call is on.
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: A PhoneOutcome once ended.
    outcome: str | None = Field(default=None, max_length=16)
    sip_code: int | None = None
    duration_seconds: int = 0
    version: int = 1
    updated_at: datetime = Field(sa_type=UTCDateTime)
