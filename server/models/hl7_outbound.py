"""The outbound HL7 queue: SIU messages to the hospital's system, kept until it ACKs them."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Index, Text
from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime

#: Waiting to be sent (or retried at next_attempt_at after the host could not be reached).
QUEUED = "queued"
#: The hospital's system answered AA.
SENT = "sent"
#: It answered AE or AR (or CE/CR): kept for an admin to see, never sent again by itself.
REFUSED = "refused"


class Hl7Outbound(ServerTable, table=True):
    """One message to send, in id order (a FIFO to one host, as interface engines expect)."""

    __tablename__ = "hl7_outbound"
    __table_args__ = (Index("ix_hl7_outbound_state_id", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: UUID = Field(foreign_key="appointment.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(sa_type=UTCDateTime)
    #: e.g. "SIU^S14".
    event: str = Field(max_length=32)
    #: The appointment's status the message tells: waiting, taken or no_show.
    status: str = Field(max_length=16)
    control_id: str = Field(max_length=64)
    #: The whole message (CR between segments), built when the status changed.
    message: str = Field(sa_type=Text)
    state: str = Field(default=QUEUED, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: A worker that took the message holds it until then (another process leaves it alone).
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    #: The ACK the hospital's system sent (AA, AE or AR), as received.
    ack: str = Field(default="", sa_type=Text)
    acked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
