"""The appointment table with its group participants and its identifiers in other systems."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime
from shared.enums import AppointmentKind, AppointmentStatus


class Appointment(ServerTable, table=True):
    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_clinician_start", "clinician_id", "start"),
        # A day of every clinician (FHIR's date search, an interface engine's reconciliation).
        Index("ix_appointment_start", "start"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    patient_id: UUID = Field(foreign_key="patient.id")
    clinician_id: UUID = Field(foreign_key="user_account.id")
    location_id: UUID | None = Field(default=None, foreign_key="location.id")
    start: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int
    kind: AppointmentKind = Field(sa_type=String(16))
    status: AppointmentStatus = Field(sa_type=String(16))
    notes: str = Field(default="", max_length=5000)
    cancel_reason: str = Field(default="", max_length=500)
    #: Delivery of the newest invites: "", queued, sent or failed (server/services/invites.py).
    invite_status: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    invite_error: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    version: int = 1
    created_by_id: UUID = Field(foreign_key="user_account.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class AppointmentParticipant(ServerTable, table=True):
    """One invitee of a group appointment (at most MAX_GROUP_PARTICIPANTS per appointment)."""

    __tablename__ = "appointment_participant"

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True, ondelete="CASCADE")
    position: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)


class AppointmentExternalId(ServerTable, table=True):
    """The appointment's identifier in another system (HL7 v2 placer id, FHIR resource id)."""

    __tablename__ = "appointment_external_id"
    __table_args__ = (
        UniqueConstraint("system", "value", name="uq_appointment_external_id_system_value"),
    )

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True, ondelete="CASCADE")
    system: str = Field(max_length=32, primary_key=True)
    value: str = Field(max_length=200)
