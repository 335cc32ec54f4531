"""Which stored statuses an appointment may move to: one rule for the desktop and the server."""

from shared.enums import AppointmentStatus

#: status -> the statuses it may become. Cancelling has its own path (a reason, a version check).
ALLOWED_MOVES: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.SCHEDULED: frozenset(
        {AppointmentStatus.TAKEN, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW}
    ),
    AppointmentStatus.TAKEN: frozenset(),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset({AppointmentStatus.SCHEDULED}),
}


def label(status: AppointmentStatus | str) -> str:
    """'no-show' for no_show: how a status reads in a sentence."""
    return str(status).replace("_", "-")


def move_refusal(current: AppointmentStatus, new: AppointmentStatus) -> str | None:
    """None when `current` may become `new`, else a sentence saying why not."""
    if new is current or new in ALLOWED_MOVES[current]:
        return None
    return f"A {label(current)} appointment cannot become {label(new)}."
