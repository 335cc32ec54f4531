"""Wire schemas shared by the desktop and the server: XBase / XCreate / XUpdate / XPublic.

The server's tables inherit the XBase classes, so a field is declared once. Business rules
(double booking, start in the past, group size, contact details) are not repeated here: they
live in validation.py and the server runs them. These classes only bound sizes and shapes.
"""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import AfterValidator, AwareDatetime, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from shared.enums import AppointmentKind, AppointmentStatus
from shared.validation import date_problem, email_problem, text_problem, time_problem

#: Upper bound of list sizes in one request, far above any rule, so bodies stay small.
MAX_LIST_ITEMS = 200
_TIME_ZONES = frozenset(available_timezones())


# What a client sends is checked against the rules of shared/validation.py, so nothing
# reaches the database that it cannot hold (a NUL on PostgreSQL, a year past 9999) or that
# would split a mail header. Only the XCreate / XUpdate classes check: records already stored
# must still be readable (XPublic) whatever older versions let in.
_LABELS = {"mrn": "MRN", "phone": "phone number", "hospital_name": "hospital name"}


def _what(info: ValidationInfo) -> str:
    name = info.field_name or "text"
    return "the " + _LABELS.get(name, name)


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(problem)


def _one_line(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None:
        _refuse(text_problem(value, _what(info)))
    return value


def _lines(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None:
        _refuse(text_problem(value, _what(info), multiline=True))
    return value


def _email(value: str | None) -> str | None:
    if value is not None:
        _refuse(email_problem(value))
    return value


def _storable_date(value: date | None) -> date | None:
    if value is not None:
        _refuse(date_problem(value))
    return value


def _storable_time(value: datetime | None) -> datetime | None:
    if value is not None:
        _refuse(time_problem(value))
    return value


#: A timezone-aware time the databases can hold: bodies and query parameters (422 otherwise).
StorableTime = Annotated[AwareDatetime, AfterValidator(_storable_time)]


class LocationBase(SQLModel):
    hospital_name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=500)
    #: An IANA time zone name, e.g. "Europe/London": the clinic's wall clock.
    time_zone: str = Field(default="UTC", max_length=64)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _TIME_ZONES:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/London)")
        return value


class LocationCreate(LocationBase):
    _one_line = field_validator("hospital_name")(_one_line)
    _lines = field_validator("address")(_lines)


class LocationUpdate(SQLModel):
    hospital_name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    time_zone: str | None = Field(default=None, max_length=64)

    _one_line = field_validator("hospital_name")(_one_line)
    _lines = field_validator("address")(_lines)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else LocationBase._known_zone(value)


class LocationPublic(LocationBase):
    id: UUID


class PatientBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date | None = None
    mrn: str = Field(default="", max_length=64)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=64)


class PatientCreate(PatientBase):
    _one_line = field_validator("name", "mrn", "phone")(_one_line)
    _email = field_validator("email")(_email)
    _storable_date = field_validator("date_of_birth")(_storable_date)


class PatientUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    date_of_birth: date | None = None
    mrn: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=64)
    #: The version the client edited; a newer stored version answers 409.
    base_version: int = Field(ge=1)

    _one_line = field_validator("name", "mrn", "phone")(_one_line)
    _email = field_validator("email")(_email)
    _storable_date = field_validator("date_of_birth")(_storable_date)


class PatientPublic(PatientBase):
    id: UUID
    #: Who assigned the MRN (PID-3.4 of the hospital system's messages, e.g. "RGH"); empty when
    #: the MRN was typed here. Set by the HL7 import only; cleared when a person edits the MRN.
    mrn_authority: str = Field(default="", max_length=64)
    version: int
    updated_at: datetime


class ParticipantIn(SQLModel):
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)


class AppointmentBase(SQLModel):
    patient_id: UUID
    clinician_id: UUID
    start: AwareDatetime
    duration_minutes: int = Field(ge=-100_000, le=100_000)
    kind: AppointmentKind
    location_id: UUID | None = None
    notes: str = Field(default="", max_length=5000)


class AppointmentCreate(AppointmentBase):
    participants: list[ParticipantIn] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    #: Identifiers of this appointment in other systems: {"hl7": "...", "fhir": "..."}.
    external_ids: dict[str, str] = Field(default_factory=dict, max_length=10)

    _storable_time = field_validator("start")(_storable_time)
    _lines = field_validator("notes")(_lines)

    @field_validator("external_ids")
    @classmethod
    def _plain_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for system, identifier in value.items():
            if text_problem(system + identifier, "an external id") is not None:
                raise ValueError("An external id must be one line without control characters.")
        return value


class AppointmentUpdate(SQLModel):
    patient_id: UUID | None = None
    clinician_id: UUID | None = None
    start: AwareDatetime | None = None
    duration_minutes: int | None = Field(default=None, ge=-100_000, le=100_000)
    kind: AppointmentKind | None = None
    location_id: UUID | None = None
    notes: str | None = Field(default=None, max_length=5000)
    participants: list[ParticipantIn] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    base_version: int = Field(ge=1)

    _storable_time = field_validator("start")(_storable_time)
    _lines = field_validator("notes")(_lines)


class AppointmentCancel(SQLModel):
    reason: str = Field(min_length=1, max_length=500)
    base_version: int = Field(ge=1)

    _lines = field_validator("reason")(_lines)


class StatusMove(SQLModel):
    """The payload of an appointment.status mutation: mark a no-show, undo it, or call taken."""

    status: AppointmentStatus


class AppointmentPublic(AppointmentBase):
    id: UUID
    status: AppointmentStatus
    cancel_reason: str
    participants: list[ParticipantIn]
    external_ids: dict[str, str]
    version: int
    updated_at: datetime
    #: Delivery of the newest patient invites: "" (none), "queued", "sent", "failed", or
    #: "not_invited" (booked by the hospital's system, waiting for staff to invite).
    invite_status: str = ""
    #: Why the newest invites failed (shown to staff), "" otherwise.
    invite_error: str = ""


class TaskBase(SQLModel):
    appointment_id: UUID | None = None
    assignee_id: UUID
    due_date: date | None = None
    text: str = Field(min_length=1, max_length=2000)
    done: bool = False


class TaskCreate(TaskBase):
    _lines = field_validator("text")(_lines)
    _storable_date = field_validator("due_date")(_storable_date)


class TaskUpdate(SQLModel):
    assignee_id: UUID | None = None
    due_date: date | None = None
    text: str | None = Field(default=None, min_length=1, max_length=2000)
    done: bool | None = None
    base_version: int = Field(ge=1)

    _lines = field_validator("text")(_lines)
    _storable_date = field_validator("due_date")(_storable_date)


class TaskPublic(TaskBase):
    id: UUID
    created_by_id: UUID
    version: int
    updated_at: datetime


#: A patient list holds at most this many patients (a clinic's cohort, not its whole register).
MAX_LIST_PATIENTS = 500


class PatientListBase(SQLModel):
    """A named list of patients the clinic shares ("Diabetes review Q1", "Awaiting bloods")."""

    name: str = Field(min_length=1, max_length=200)


class PatientListCreate(PatientListBase):
    #: The members, in the list's order; each once.
    patient_ids: list[UUID] = Field(default_factory=list, max_length=MAX_LIST_PATIENTS)
    #: A list made and deleted before it reached the server arrives deleted.
    archived: bool = False

    _one_line = field_validator("name")(_one_line)

    @field_validator("patient_ids")
    @classmethod
    def _each_once(cls, value: list[UUID]) -> list[UUID]:
        if len(set(value)) != len(value):
            raise ValueError("A patient is on a list once.")
        return value


class PatientListUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    patient_ids: list[UUID] | None = Field(default=None, max_length=MAX_LIST_PATIENTS)
    #: True deletes the list (kept, audited, hidden everywhere; false brings it back).
    archived: bool | None = None
    base_version: int = Field(ge=1)

    _one_line = field_validator("name")(_one_line)

    @field_validator("patient_ids")
    @classmethod
    def _each_once(cls, value: list[UUID] | None) -> list[UUID] | None:
        return None if value is None else PatientListCreate._each_once(value)


class PatientListPublic(PatientListBase):
    id: UUID
    patient_ids: list[UUID]
    archived: bool = False
    version: int
    updated_at: datetime
