"""Enumerations of the domain: appointment kinds, stored statuses, displayed states, roles."""

from enum import StrEnum


class AppointmentKind(StrEnum):
    VIDEO = "video"
    PHONE = "phone"
    GROUP = "group"

    @property
    def label(self) -> str:
        return {"video": "Video", "phone": "Phone", "group": "Group"}[self.value]


class AppointmentStatus(StrEnum):
    """What is stored (and synced) about an appointment's life cycle."""

    SCHEDULED = "scheduled"
    TAKEN = "taken"  # the call has been taken: in progress or finished
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class DisplayState(StrEnum):
    """What the schedule shows: derived from the status, presence and the clock (see status.py)."""

    SCHEDULED = "scheduled"
    WAITING = "waiting"
    TAKEN = "taken"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self][0]

    @property
    def description(self) -> str:
        return _STATE_LABELS[self][1]


_STATE_LABELS: dict[DisplayState, tuple[str, str]] = {
    DisplayState.SCHEDULED: ("Scheduled", "Booked; the patient is not in the waiting room yet"),
    DisplayState.WAITING: ("Waiting", "The patient is in the virtual waiting room"),
    DisplayState.TAKEN: ("Taken", "The call has been taken"),
    DisplayState.CANCELLED: ("Cancelled", "Cancelled by staff or the hospital system"),
    DisplayState.NO_SHOW: ("No-show", "The patient never came"),
}


class SyncState(StrEnum):
    """Where a local record stands with the server."""

    SYNCED = "synced"  # the server has it as shown
    PENDING = "pending"  # changed here, not yet accepted by the server
    REJECTED = "rejected"  # the server refused the last change; the user's data is kept


class Role(StrEnum):
    CLINICIAN = "clinician"
    CLERK = "clerk"
    ADMIN = "admin"
