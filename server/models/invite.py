"""Patient links (stored as token hashes only) and the outbox of invite emails to send."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Index
from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime

#: `recipient` of the appointment's patient; a group participant is its position + 1.
PATIENT = 0


class PatientLink(ServerTable, table=True):
    """A link into the waiting room for one recipient of an appointment.

    Only the SHA-256 of the token is kept. A link is valid from its creation until the
    appointment's end plus the grace period (read live, so a reschedule moves it); a
    cancellation revokes it.
    """

    __tablename__ = "patient_link"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    appointment_id: UUID = Field(foreign_key="appointment.id", index=True, ondelete="CASCADE")
    recipient: int = PATIENT
    token_hash: str = Field(max_length=64, unique=True)
    #: "email" (carried by an invite) or "copy" (handed to staff to pass on).
    origin: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invite(ServerTable, table=True):
    """One email to one recipient, sent by the invite worker and retried with backoff.

    `status`: queued (not tried yet), sent, failed (retried while `next_attempt_at` is set),
    superseded (a newer invite for the appointment replaced it before it went out).
    """

    __tablename__ = "invite"
    __table_args__ = (Index("ix_invite_next_attempt_at", "next_attempt_at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    appointment_id: UUID = Field(foreign_key="appointment.id", index=True, ondelete="CASCADE")
    #: The invites queued together (one per recipient); the appointment shows the newest batch.
    batch: UUID
    recipient: int = PATIENT
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    #: booked, resent, rescheduled or cancelled.
    purpose: str = Field(max_length=16)
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: A worker that took the invite holds it until then (another process leaves it alone).
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    link_id: UUID | None = Field(default=None, foreign_key="patient_link.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
