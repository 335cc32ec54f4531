"""Schemas of the HL7 message log as admins read it, and of a replay's answer."""

from datetime import datetime

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
