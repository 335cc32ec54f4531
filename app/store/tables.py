"""SQLModel tables of the local store. The DDL that creates them lives in migrations.py."""

from datetime import date, datetime
from uuid import UUID

from sqlmodel import Field, SQLModel


class StaffRow(SQLModel, table=True):
    __tablename__ = "staff"

    id: UUID = Field(primary_key=True)
    name: str
    role: str


class LocationRow(SQLModel, table=True):
    __tablename__ = "location"

    id: UUID = Field(primary_key=True)
    hospital_name: str
    address: str = ""


class PatientRow(SQLModel, table=True):
    __tablename__ = "patient"

    id: UUID = Field(primary_key=True)
    name: str
    date_of_birth: date | None = None
    mrn: str = ""
    email: str = ""
    phone: str = ""


class AppointmentRow(SQLModel, table=True):
    __tablename__ = "appointment"

    id: UUID = Field(primary_key=True)
    patient_id: UUID = Field(foreign_key="patient.id")
    clinician_id: UUID = Field(foreign_key="staff.id")
    location_id: UUID | None = Field(default=None, foreign_key="location.id")
    #: Timezone-aware; SQLModel stores it as UTC and returns it in UTC.
    start: datetime
    duration_minutes: int
    kind: str
    status: str
    notes: str = ""
    cancel_reason: str = ""
    version: int = 1
    updated_at: datetime


class ParticipantRow(SQLModel, table=True):
    __tablename__ = "participant"

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True)
    position: int = Field(primary_key=True)
    name: str
    email: str
