"""How invites are named in a mail pickup folder: one place for the server that writes them
and the demo desktop that shows them."""

from uuid import UUID

SUFFIX = ".eml"


def file_name(appointment_id: UUID, invite_id: UUID) -> str:
    return f"{appointment_id}-{invite_id}{SUFFIX}"


def pattern(appointment_id: UUID) -> str:
    """A glob for every message written for the appointment."""
    return f"{appointment_id}-*{SUFFIX}"
