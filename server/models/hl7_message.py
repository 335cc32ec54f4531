"""The raw HL7 v2 message log: what arrived over MLLP, what it did, and the ACK sent back."""

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime


class Hl7Message(ServerTable, table=True):
    """One received message; rows past settings.hl7_log_max_messages are pruned oldest first."""

    __tablename__ = "hl7_message"
    __table_args__ = (Index("ix_hl7_message_sender_control", "sender", "control_id"),)

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
    #: MSH-3^MSH-4 of the sender: control ids are unique per sending system only.
    sender: str = Field(max_length=200)
    control_id: str = Field(max_length=200)
    #: e.g. "SIU^S12".
    event: str = Field(default="", max_length=32)
    #: AA (applied), AE (refused for its content) or AR (rejected).
    ack_code: str = Field(max_length=2)
    #: The appointment (SCH-1/SCH-2) or patient (PID-3) the message was about, for the search.
    subject: str = Field(default="", max_length=200, index=True)
    error: str = Field(default="", max_length=1000)
    raw: str = Field(sa_type=Text)
    ack: str = Field(sa_type=Text)
