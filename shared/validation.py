"""Validation of appointment and patient drafts: every rule, with a message a hurried clerk
understands.

Pure: the caller passes in the clinician's other appointments and the time. The store runs this
again inside its write transaction, so two quick saves cannot double-book a clinician.
"""

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo

from email_validator import EmailNotValidError, validate_email

from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind, AppointmentStatus
from shared.errors import FieldError
from shared.records import MAX_GROUP_PARTICIPANTS, Appointment

MAX_DURATION_MINUTES = 8 * 60

#: Statuses that no longer hold the clinician's time.
_FREE_STATUSES = frozenset({AppointmentStatus.CANCELLED})

#: The times every store holds whatever the UTC offset: Python's datetime ends at year 9999
#: (so 9999-12-31 23:59-01:00 overflows when turned into UTC), SQLite keeps it as text and
#: PostgreSQL's timestamptz starts at 4713 BC. A margin on both sides, far from any clinic day.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, tzinfo=UTC)
_RANGE = "Enter a date between the years 1900 and 9998."

#: C0 controls (NUL, CR, LF, TAB...), DEL, C1 controls and the Unicode line separators: a NUL
#: cannot be stored on PostgreSQL, and a line break in a name or an address header splits it.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def text_problem(value: str, what: str, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as `what` ("the name"), or None when it can.

    Every text field is one line; `multiline` ones (notes, task text) may keep line breaks.
    """
    if multiline:
        return (f"Remove the invisible control character from {what}."
                if _CONTROL_BUT_NEWLINE.search(value) else None)
    if "\n" in value or "\r" in value or "\u2028" in value or "\u2029" in value:
        return f"Keep {what} on one line."
    if _CONTROL.search(value):
        return f"Remove the invisible control character from {what}."
    return None


def email_problem(value: str) -> str | None:
    """Why `value` is not one email address, or None when it is ("" is no address: None)."""
    text = value.strip()
    if not text:
        return None
    if _CONTROL.search(value):
        return "Keep the email address on one line, without control characters."
    if "," in text or ";" in text:
        return "Enter one email address only."
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return "This is not an email address (it looks like name@example.org)."
    return None


def is_email(text: str) -> bool:
    return email_problem(text) is None and bool(text.strip())


def time_problem(value: datetime) -> str | None:
    """Why `value` (timezone-aware) cannot be stored, or None."""
    return None if EARLIEST <= value <= LATEST else _RANGE


def date_problem(value: date) -> str | None:
    """Why the calendar date `value` cannot be stored, or None."""
    return None if EARLIEST.date() <= value <= LATEST.date() else _RANGE


def _patient_text_errors(patient: PatientDraft) -> list[FieldError]:
    checks = [
        ("patient.name", patient.name, "the name"),
        ("patient.mrn", patient.mrn, "the MRN"),
        ("patient.phone", patient.phone, "the phone number"),
    ]
    errors = []
    for field, value, what in checks:
        problem = text_problem(value, what)
        if problem is not None:
            errors.append(FieldError(field, problem))
    return errors


def _patient_rule_errors(patient: PatientDraft, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if not patient.name.strip():
        errors.append(FieldError("patient.name", "Enter the patient's name."))
    if patient.date_of_birth is not None and patient.date_of_birth > today:
        errors.append(FieldError("patient.date_of_birth", "The date of birth is in the future."))
    elif patient.date_of_birth is not None and date_problem(patient.date_of_birth):
        errors.append(FieldError("patient.date_of_birth", _RANGE))
    email_error = email_problem(patient.email)
    if email_error is not None:
        errors.append(FieldError("patient.email", email_error))
    return errors


def validate_patient(patient: PatientDraft, today: date) -> list[FieldError]:
    """All problems with a patient's details on their own (the Patients view's edit); the
    appointment dialog runs the same rules through validate_appointment."""
    return _patient_text_errors(patient) + _patient_rule_errors(patient, today)


def duplicate_mrn_problem(mrn: str, holder: str) -> str:
    """The sentence for an MRN already registered to `holder` (another patient's name)."""
    return (f"MRN {mrn} is already registered to {holder}: a patient is registered once. "
            "Search for them instead, or correct the MRN.")


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
    patient = draft.patient
    errors: list[FieldError] = _patient_text_errors(patient)
    notes_problem = text_problem(draft.notes, "the notes", multiline=True)
    if notes_problem is not None:
        errors.append(FieldError("notes", notes_problem))
    errors.extend(_patient_rule_errors(patient, now.date()))
    email = patient.email.strip()
    if email_problem(patient.email) is None and not email and draft.kind in (
        AppointmentKind.VIDEO, AppointmentKind.GROUP
    ):
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
    if time_problem(draft.start) is not None:
        # Nothing below can even compute the end of such a time.
        errors.append(FieldError("start", _RANGE))
        return errors
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
        problem = text_problem(participant.name, f"participant {number}'s name")
        if problem is not None:
            errors.append(FieldError("participants", problem))
            break
        if not is_email(participant.email):
            errors.append(
                FieldError("participants", f"Participant {number} needs a valid email address.")
            )
            break
    return errors
