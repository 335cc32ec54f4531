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
    #: Who assigned the MRN (the hospital system's PID-3.4); "" when typed here.
    mrn_authority: str = ""
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
    invite_status: str = ""
    invite_error: str = ""


class ParticipantRow(SQLModel, table=True):
    __tablename__ = "participant"

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True)
    position: int = Field(primary_key=True)
    name: str
    email: str


class OutboxRow(SQLModel, table=True):
    """A change made on this desktop that the server has not answered yet."""

    __tablename__ = "outbox"

    seq: int | None = Field(default=None, primary_key=True)
    id: UUID
    intent: str
    entity_type: str
    entity_id: UUID
    #: The mutation's payload as JSON text.
    payload: str
    #: Frozen when first sent; until then the record's server version is used.
    base_version: int | None = None
    #: Sent at least once: from then on the mutation is never changed, only repeated.
    sent: bool = False
    created_at: datetime


class SyncRecordRow(SQLModel, table=True):
    """Where one local record stands with the server."""

    __tablename__ = "sync_record"

    entity_type: str = Field(primary_key=True)
    entity_id: UUID = Field(primary_key=True)
    #: The server version the local copy is based on; None: not on the server (yet).
    server_version: int | None = None
    #: The server's last known state of the record (its XPublic JSON); None: none known.
    server_data: str | None = None
    state: str = "synced"
    message: str = ""
    #: Bumped by a full re-sync; records of an older generation did not come back.
    generation: int = 0


class SyncMetaRow(SQLModel, table=True):
    __tablename__ = "sync_meta"

    key: str = Field(primary_key=True)
    value: str


class TaskRow(SQLModel, table=True):
    """A follow-up after a consultation (or any to-do), given to a clinician or clerk."""

    __tablename__ = "task"

    id: UUID = Field(primary_key=True)
    appointment_id: UUID | None = None
    assignee_id: UUID
    created_by_id: UUID | None = None
    due_date: date | None = None
    text: str
    done: bool = False
    version: int = 1
    updated_at: datetime


class PatientListRow(SQLModel, table=True):
    """A named list of patients the clinic shares."""

    __tablename__ = "patient_list"

    id: UUID = Field(primary_key=True)
    name: str
    #: Deleted: kept until the server has it, shown nowhere.
    archived: bool = False
    version: int = 1
    updated_at: datetime


class PatientListMemberRow(SQLModel, table=True):
    __tablename__ = "patient_list_member"

    list_id: UUID = Field(foreign_key="patient_list.id", primary_key=True)
    position: int = Field(primary_key=True)
    patient_id: UUID


class PhoneAttemptRow(SQLModel, table=True):
    """One call to a phone appointment's patient, as the server recorded it (read-only here)."""

    __tablename__ = "phone_attempt"

    id: UUID = Field(primary_key=True)
    appointment_id: UUID
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    #: A PhoneOutcome; "" while the call is on.
    outcome: str = ""
    sip_code: int | None = None
    duration_seconds: int = 0
    caller_id: UUID
    caller_name: str
    number: str
    version: int = 1
    updated_at: datetime
