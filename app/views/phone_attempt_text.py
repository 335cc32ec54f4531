"""A call to the patient's phone in words: "No answer at 10:02", "Answered at 10:05, 3:12"."""

from datetime import date, datetime

from app.views.date_text import date_time_text, time_text
from shared.phone_call_protocol import PhoneOutcome
from shared.records import PhoneAttempt


def duration_text(seconds: int) -> str:
    """'3:07' (minutes:seconds), '1:02:07' past an hour."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


#: Where the protocol's word alone could be read as the appointment's status on the row.
_ON_THE_ROW = {
    PhoneOutcome.CANCELLED: "Call hung up",
    PhoneOutcome.FAILED: "Call failed",
}


def outcome_text(attempt: PhoneAttempt) -> str:
    """'No answer', 'Answered', 'Calling…' while the call is still on."""
    if attempt.outcome is None:
        return "Connected" if attempt.answered_at is not None else "Calling…"
    if attempt.outcome is PhoneOutcome.CANCELLED:
        return "Hung up before an answer"
    words = attempt.outcome.words
    return words[0].upper() + words[1:]


def _when(moment: datetime, today: date) -> str:
    return time_text(moment) if moment.astimezone().date() == today else date_time_text(moment)


def attempt_summary(attempt: PhoneAttempt, today: date) -> str:
    """The latest call for the schedule's row: 'No answer at 10:02' (the date when not
    today); 'Calling since 10:02' while it is on; never a bare 'Cancelled', which the row
    would seem to say of the appointment."""
    if attempt.outcome is None:
        since = attempt.answered_at or attempt.started_at
        verb = "On the phone" if attempt.answered_at is not None else "Calling"
        return f"{verb} since {_when(since, today)}"
    if attempt.outcome is PhoneOutcome.ANSWERED:
        text = f"Answered at {_when(attempt.answered_at or attempt.started_at, today)}"
        return f"{text}, {duration_text(attempt.duration_seconds)}"
    said = _ON_THE_ROW.get(attempt.outcome) or outcome_text(attempt)
    return f"{said} at {_when(attempt.started_at, today)}"
