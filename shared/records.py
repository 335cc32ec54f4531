"""The domain's records: plain frozen dataclasses the store returns and the Qt models present.

Datetimes are timezone-aware (UTC); the UI converts them to the workstation's zone for display.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from shared.enums import AppointmentKind, AppointmentStatus, Role, SyncState
from shared.phone_call_protocol import PhoneOutcome

#: A group appointment holds at most this many participants besides the clinician.
MAX_GROUP_PARTICIPANTS = 50


@dataclass(frozen=True, slots=True)
class Patient:
    id: UUID
    name: str
    date_of_birth: date | None = None
    mrn: str = ""
    email: str = ""
    phone: str = ""
    #: Who assigned the MRN (the hospital system's assigning authority); "" when typed here.
    mrn_authority: str = ""


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: UUID
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Location:
    id: UUID
    hospital_name: str
    address: str

    @property
    def label(self) -> str:
        return f"{self.hospital_name}, {self.address}" if self.address else self.hospital_name


@dataclass(frozen=True, slots=True)
class Participant:
    """One invitee of a group appointment."""

    name: str
    email: str


#: invite_status of an appointment the hospital's system booked (HL7) that staff have not
#: invited yet: "scheduled, not invited", with its own marker and an Invite action.
NOT_INVITED = "not_invited"


@dataclass(frozen=True, slots=True)
class PhoneAttempt:
    """One call to a phone appointment's patient, as the server recorded it."""

    id: UUID
    appointment_id: UUID
    started_at: datetime
    caller_name: str
    #: The number dialled (E.164).
    number: str
    answered_at: datetime | None = None
    #: None while the call is on.
    ended_at: datetime | None = None
    outcome: PhoneOutcome | None = None
    duration_seconds: int = 0


@dataclass(frozen=True, slots=True)
class Appointment:
    id: UUID
    patient: Patient
    clinician: StaffMember
    start: datetime
    duration_minutes: int
    kind: AppointmentKind
    status: AppointmentStatus = AppointmentStatus.SCHEDULED
    location: Location | None = None
    notes: str = ""
    participants: tuple[Participant, ...] = field(default_factory=tuple)
    cancel_reason: str = ""
    version: int = 1
    #: Pending: changed on this desktop, not yet accepted by the server; rejected: refused.
    sync_state: SyncState = SyncState.SYNCED
    #: The server's reason when rejected ("Dr Ng already has an appointment 10:00-10:20.").
    sync_message: str = ""
    #: The server's emails to the patient: "" (none), "queued", "sent", "failed" or NOT_INVITED.
    invite_status: str = ""
    #: Why the last invite failed (staff see it on the appointment).
    invite_error: str = ""
    #: The latest call to the patient's phone, for a phone appointment that was called.
    last_phone_attempt: PhoneAttempt | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_minutes)

    def with_status(self, status: AppointmentStatus) -> "Appointment":
        return replace(self, status=status, version=self.version + 1)


@dataclass(frozen=True, slots=True)
class Task:
    """A follow-up: who does it, by when, what; done or open."""

    id: UUID
    assignee: StaffMember
    text: str
    due_date: date | None = None
    done: bool = False
    appointment_id: UUID | None = None
    created_by_id: UUID | None = None
    version: int = 1
    sync_state: SyncState = SyncState.SYNCED
    sync_message: str = ""


@dataclass(frozen=True, slots=True)
class PatientFile:
    """What the Patients view shows of one patient: their details, every appointment on this
    desktop (by start) and the tasks about those appointments."""

    patient: Patient
    appointments: tuple[Appointment, ...] = ()
    tasks: tuple[Task, ...] = ()


@dataclass(frozen=True, slots=True)
class PatientList:
    """A named list of patients the clinic shares; `patient_ids` in the list's order."""

    id: UUID
    name: str
    patient_ids: tuple[UUID, ...] = ()
    version: int = 1
    sync_state: SyncState = SyncState.SYNCED
    sync_message: str = ""


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One patient of a list as the list shows them: their next appointment (None: none
    booked) and whether they were invited to it."""

    patient: Patient
    next_appointment: Appointment | None = None

    @property
    def invited(self) -> bool:
        booked = self.next_appointment
        return booked is not None and booked.invite_status in ("queued", "sent")
