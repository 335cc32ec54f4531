"""The calls to phone appointments' patients, as the server recorded them (pulled, read-only)."""

from collections.abc import Iterable
from uuid import UUID

from sqlmodel import Session, col, func, select

from app.store.tables import PhoneAttemptRow
from shared.phone_call_protocol import PhoneOutcome
from shared.records import PhoneAttempt

#: Appointment ids per query.
_SLICE = 5000


def _record(row: PhoneAttemptRow) -> PhoneAttempt:
    return PhoneAttempt(
        id=row.id, appointment_id=row.appointment_id, started_at=row.started_at,
        caller_name=row.caller_name, number=row.number, answered_at=row.answered_at,
        ended_at=row.ended_at, outcome=PhoneOutcome(row.outcome) if row.outcome else None,
        duration_seconds=row.duration_seconds,
    )


def attempts_of(session: Session, appointment_id: UUID) -> list[PhoneAttempt]:
    """The appointment's calls, newest first."""
    rows = session.exec(
        select(PhoneAttemptRow)
        .where(col(PhoneAttemptRow.appointment_id) == appointment_id)
        .order_by(col(PhoneAttemptRow.started_at).desc(), col(PhoneAttemptRow.id))
    )
    return [_record(row) for row in rows]


def latest_of(session: Session, appointment_ids: Iterable[UUID]) -> dict[UUID, PhoneAttempt]:
    """Each appointment's latest call, for those that have one."""
    ids = list(appointment_ids)
    found: dict[UUID, PhoneAttempt] = {}
    # In slices: a search across every date may hold more ids than SQLite takes parameters.
    for first in range(0, len(ids), _SLICE):
        newest = (
            select(PhoneAttemptRow.appointment_id,
                   func.max(PhoneAttemptRow.started_at).label("started_at"))
            .where(col(PhoneAttemptRow.appointment_id).in_(ids[first:first + _SLICE]))
            .group_by(col(PhoneAttemptRow.appointment_id))
            .subquery()
        )
        rows = session.exec(
            select(PhoneAttemptRow).join(
                newest,
                (col(PhoneAttemptRow.appointment_id) == newest.c.appointment_id)
                & (col(PhoneAttemptRow.started_at) == newest.c.started_at),
            )
        )
        found.update((row.appointment_id, _record(row)) for row in rows)
    return found


def appointments_of_attempts(session: Session, attempt_ids: set[UUID]) -> set[UUID]:
    """The appointments the attempts belong to (their rows show the latest call)."""
    if not attempt_ids:
        return set()
    query = select(PhoneAttemptRow.appointment_id).where(col(PhoneAttemptRow.id).in_(attempt_ids))
    return set(session.exec(query).all())
