"""What a person fills in before it becomes a record: the input of create and edit."""

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from shared.enums import AppointmentKind
from shared.records import Participant


@dataclass(slots=True)
class PatientDraft:
    """A patient as typed: `id` set when an existing patient was picked (and maybe corrected)."""

    name: str
    date_of_birth: date | None = None
    mrn: str = ""
    email: str = ""
    phone: str = ""
    id: UUID | None = None


@dataclass(slots=True)
class AppointmentDraft:
    """An appointment as typed in the dialog; `id` set when editing an existing one."""

    patient: PatientDraft
    clinician_id: UUID | None
    start: datetime
    duration_minutes: int
    kind: AppointmentKind
    location_id: UUID | None = None
    notes: str = ""
    participants: list[Participant] = field(default_factory=list)
    id: UUID | None = None


@dataclass(slots=True)
class TaskDraft:
    """A task as typed in the task dialog; `id` set when editing one."""

    assignee_id: UUID | None
    text: str
    due_date: date | None = None
    done: bool = False
    appointment_id: UUID | None = None
    id: UUID | None = None


@dataclass(slots=True)
class PatientListDraft:
    """A patient list as edited: its name and members in order; `id` set when it exists."""

    name: str
    patient_ids: list[UUID] = field(default_factory=list)
    id: UUID | None = None
