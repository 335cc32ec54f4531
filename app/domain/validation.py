"""Validation of an appointment draft: every rule, with a message a hurried clerk understands.

Pure: the caller passes in the clinician's other appointments and the time. The store runs this
again inside its write transaction, so two quick saves cannot double-book a clinician.
"""

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from app.domain.drafts import AppointmentDraft
from app.domain.enums import AppointmentKind, AppointmentStatus
from app.domain.errors import FieldError
from app.domain.records import MAX_GROUP_PARTICIPANTS, Appointment

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_DURATION_MINUTES = 8 * 60

#: Statuses that no longer hold the clinician's time.
_FREE_STATUSES = frozenset({AppointmentStatus.CANCELLED})


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text.strip()))


def overlaps(start: datetime, end: datetime, other: Appointment) -> bool:
    return start < other.end and other.start < end


def _clock(at: datetime, zone: tzinfo | None) -> str:
    """Hours and minutes in `zone` (the clinic's), or the workstation's zone when None."""
    return at.astimezone(zone).strftime("%H:%M")


def validate_appointment(
    draft: AppointmentDraft,
    others: Iterable[Appointment],
    now: datetime,
    original_start: datetime | None = None,
    zone: tzinfo | None = None,
) -> list[FieldError]:
    """All problems with `draft`; empty when it may be saved.

    `others` are the clinician's appointments around the draft's time (the draft itself may be
    among them when editing; it is skipped). `original_start` is the stored start when editing:
    an appointment that already lies in the past may still get its notes corrected. Times in
    messages are shown in `zone` (the server passes the location's), else the local zone.
    """
    errors: list[FieldError] = []
    patient = draft.patient

    if not patient.name.strip():
        errors.append(FieldError("patient.name", "Enter the patient's name."))
    if patient.date_of_birth is not None and patient.date_of_birth > now.date():
        errors.append(FieldError("patient.date_of_birth", "The date of birth is in the future."))
    email = patient.email.strip()
    if email and not is_email(email):
        errors.append(FieldError("patient.email", f"“{email}” is not an email address."))
    elif not email and draft.kind in (AppointmentKind.VIDEO, AppointmentKind.GROUP):
        errors.append(
            FieldError(
                "patient.email",
                f"A {draft.kind.label.lower()} appointment needs the patient's email "
                "for the invite.",
            )
        )
    if draft.kind is AppointmentKind.PHONE and not email and not patient.phone.strip():
        errors.append(
            FieldError("patient.phone", "A phone appointment needs the patient's phone or email.")
        )

    if draft.clinician_id is None:
        errors.append(FieldError("clinician", "Choose the clinician."))

    if draft.start.tzinfo is None:
        raise ValueError("appointment start must be timezone-aware")
    start_moved = original_start is None or draft.start != original_start
    if start_moved and draft.start < now:
        errors.append(
            FieldError("start", f"The start ({_clock(draft.start, zone)}) is in the past.")
        )
    if draft.duration_minutes <= 0:
        errors.append(FieldError("duration", "The duration must be at least one minute."))
    elif draft.duration_minutes > MAX_DURATION_MINUTES:
        errors.append(FieldError("duration", "An appointment lasts at most 8 hours."))

    if draft.kind is AppointmentKind.GROUP:
        errors.extend(_participant_errors(draft))

    if draft.clinician_id is not None and draft.duration_minutes > 0:
        end = draft.start + timedelta(minutes=draft.duration_minutes)
        for other in others:
            if other.id == draft.id or other.status in _FREE_STATUSES:
                continue
            if other.clinician.id == draft.clinician_id and overlaps(draft.start, end, other):
                errors.append(
                    FieldError(
                        "start",
                        f"{other.clinician.name} already has an appointment "
                        f"{_clock(other.start, zone)}–{_clock(other.end, zone)}.",
                    )
                )
                break
    return errors


def _participant_errors(draft: AppointmentDraft) -> list[FieldError]:
    errors: list[FieldError] = []
    count = len(draft.participants)
    if count > MAX_GROUP_PARTICIPANTS:
        errors.append(
            FieldError(
                "participants",
                f"A group appointment holds at most {MAX_GROUP_PARTICIPANTS} participants "
                f"({count} entered).",
            )
        )
    for number, participant in enumerate(draft.participants, start=1):
        if not participant.name.strip():
            errors.append(FieldError("participants", f"Participant {number} has no name."))
            break
        if not is_email(participant.email):
            errors.append(
                FieldError("participants", f"Participant {number} needs a valid email address.")
            )
            break
    return errors
