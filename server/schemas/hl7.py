"""Schemas of the HL7 message log and the outbound queue as admins read them, and of a replay's
answer."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel


class Hl7MessagePublic(BaseModel):
    id: int
    received_at: datetime
    sender: str
    control_id: str
    event: str
    ack_code: str
    subject: str
    error: str
    raw: str
    ack: str


class Hl7ReplayOut(BaseModel):
    ack_code: str
    ack: str


class Hl7OutboundPublic(BaseModel):
    """A message queued for the hospital's system, with how its delivery went."""

    id: int
    appointment_id: UUID
    created_at: datetime
    event: str
    status: str
    control_id: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    message: str
    ack: str
    acked_at: datetime | None
