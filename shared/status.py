"""The status-icon rule: which state an appointment shows, and for how long a patient has waited.

One source of truth, used by the desktop's schedule and by the server alike.
"""

from datetime import datetime, timedelta

from shared.enums import AppointmentStatus, DisplayState

#: A patient in the waiting room turns the row green from this long before the start.
WAITING_WINDOW = timedelta(minutes=5)


def display_state(
    status: AppointmentStatus,
    start: datetime,
    arrived_at: datetime | None,
    now: datetime,
) -> DisplayState:
    """The state the schedule shows for one appointment at `now`.

    `arrived_at` is when the patient entered the waiting room (None when they are not online).
    Green (waiting) needs both: the patient is online, and it is within 5 minutes of the start
    or later. Earlier than that the row stays blue (scheduled) so the clinic is not distracted.
    """
    if status is AppointmentStatus.CANCELLED:
        return DisplayState.CANCELLED
    if status is AppointmentStatus.NO_SHOW:
        return DisplayState.NO_SHOW
    if status is AppointmentStatus.TAKEN:
        return DisplayState.TAKEN
    if arrived_at is not None and now >= start - WAITING_WINDOW:
        return DisplayState.WAITING
    return DisplayState.SCHEDULED


def early_since(
    status: AppointmentStatus,
    start: datetime,
    arrived_at: datetime | None,
    now: datetime,
) -> datetime | None:
    """When a patient who is in the waiting room before the green window came in, else None.

    Such a row stays Scheduled (blue) by the rule above, but the clinic is told the truth:
    the patient is there, early, since this time; the row turns green at start - 5 min.
    """
    if arrived_at is None:
        return None
    if display_state(status, start, arrived_at, now) is not DisplayState.SCHEDULED:
        return None
    return arrived_at


def waiting_seconds(arrived_at: datetime | None, now: datetime) -> int | None:
    """Whole seconds the patient has been in the waiting room, or None when not there."""
    if arrived_at is None:
        return None
    return max(0, int((now - arrived_at).total_seconds()))


def format_waiting(seconds: int | None) -> str:
    """mm:ss (h:mm:ss past an hour); empty when the patient is not waiting."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"
