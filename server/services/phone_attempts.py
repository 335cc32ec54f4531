"""Phone attempts kept on their appointment: written when a call is dialled, answered and
ended (one row per call, never two), audited, and logged for pull with the appointment's scope,
so every desktop that sees the appointment gets them."""

import logging
from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.models.appointment import Appointment
from server.models.phone_attempt import PhoneAttempt
from server.models.user import User
from server.realtime.hub import Hub
from server.services import audit, changes
from server.services.caller import Caller
from server.services.phone_calls import PhoneCall
from server.session_effects import ServerSession
from shared.phone_call_protocol import PhoneAttemptPublic, PhoneOutcome

log = logging.getLogger("clinicdesk.server.phone")

KIND = "phone_attempt"


def public(row: PhoneAttempt) -> PhoneAttemptPublic:
    return PhoneAttemptPublic(
        id=row.id, appointment_id=row.appointment_id, started_at=row.started_at,
        answered_at=row.answered_at, ended_at=row.ended_at,
        outcome=PhoneOutcome(row.outcome) if row.outcome else None, sip_code=row.sip_code,
        duration_seconds=row.duration_seconds, caller_id=row.caller_id,
        caller_name=row.caller_name, number=row.number, version=row.version,
        updated_at=row.updated_at,
    )


def of_appointment(session: Session, appointment_id: UUID) -> list[PhoneAttemptPublic]:
    """The appointment's attempts, oldest first."""
    rows = session.exec(
        select(PhoneAttempt)
        .where(PhoneAttempt.appointment_id == appointment_id)
        .order_by(col(PhoneAttempt.started_at), col(PhoneAttempt.id))
    )
    return [public(row) for row in rows]


def _logged(session: Session, row: PhoneAttempt, clinician_id: UUID, at: datetime) -> None:
    changes.record(session, KIND, row.id, [clinician_id], at)


def dialled(
    session: Session, caller: Caller, appointment: Appointment, call_id: UUID, number: str
) -> None:
    """The call `call_id` to `number` (E.164) starts: its attempt, in the caller's session."""
    row = PhoneAttempt(
        id=call_id, appointment_id=appointment.id, caller_id=caller.user.id,
        caller_name=caller.user.full_name, number=number, started_at=caller.now,
        updated_at=caller.now,
    )
    session.add(row)
    session.flush()
    audit.record(session, caller, "appointment.phone_call", "appointment", appointment.id,
                 f"attempt={call_id}")
    _logged(session, row, appointment.clinician_id, caller.now)


def answered(session: Session, call: PhoneCall, clinician_id: UUID) -> None:
    """The phone answered: the attempt says when (in the session that marks the call taken)."""
    row = session.get(PhoneAttempt, call.id)
    if row is None or row.answered_at is not None or call.answered_at is None:
        return
    row.answered_at = call.answered_at
    row.version += 1
    row.updated_at = call.answered_at
    session.add(row)
    _logged(session, row, clinician_id, call.answered_at)


def ended(engine: Engine, hub: Hub | None, call: PhoneCall, at: datetime) -> None:
    """The call ended (any way, also when the server's call object gave up): its outcome,
    written once; a second end of the same call changes nothing."""
    with ServerSession(engine, hub=hub) as session:
        row = session.get(PhoneAttempt, call.id)
        user = session.get(User, call.user_id)
        appointment = session.get(Appointment, call.appointment_id)
        if row is None or user is None or appointment is None:
            log.warning("phone call %s ended with no attempt to record it on", call.id)
            return
        if row.ended_at is not None:
            return
        _close(row, call.outcome or PhoneOutcome.FAILED, at, call.sip_code,
               call.answered_at, call.duration_seconds)
        session.add(row)
        caller = Caller(user=user, address="phone-call", now=at)
        audit.record(session, caller, "phone_attempt.end", KIND, row.id,
                     f"appointment={row.appointment_id} outcome={row.outcome}"
                     f" duration={row.duration_seconds}")
        _logged(session, row, appointment.clinician_id, at)
        session.commit()


def _close(
    row: PhoneAttempt, outcome: PhoneOutcome, at: datetime, sip_code: int | None,
    answered_at: datetime | None, duration_seconds: int,
) -> None:
    row.ended_at = at
    row.outcome = outcome.value
    row.sip_code = sip_code
    if answered_at is not None and row.answered_at is None:
        row.answered_at = answered_at
    row.duration_seconds = duration_seconds
    row.version += 1
    row.updated_at = at


def close_left_open(engine: Engine, hub: Hub, at: datetime) -> int:
    """At start: attempts a stopped server left open (its calls died with it) end as failed.
    How many there were."""
    with ServerSession(engine, hub=hub) as session:
        rows = session.exec(
            select(PhoneAttempt, Appointment.clinician_id)
            .join(Appointment, col(Appointment.id) == col(PhoneAttempt.appointment_id))
            .where(col(PhoneAttempt.ended_at).is_(None))
        ).all()
        for row, clinician_id in rows:
            duration = (
                max(int((at - row.answered_at).total_seconds()), 0) if row.answered_at else 0
            )
            _close(row, PhoneOutcome.FAILED, at, None, None, duration)
            session.add(row)
            _logged(session, row, clinician_id, at)
        if rows:
            log.warning("%d phone call(s) left open by a stopped server recorded as failed",
                        len(rows))
        session.commit()
        return len(rows)


def follow_appointment(
    session: Session, appointment_id: UUID, clinician_id: UUID, previous: UUID, at: datetime
) -> None:
    """The appointment moved to another clinician: its attempts go with it (and leave the
    previous clinician's desktops)."""
    if clinician_id == previous:
        return
    ids = session.exec(
        select(PhoneAttempt.id).where(PhoneAttempt.appointment_id == appointment_id)
    ).all()
    for attempt_id in ids:
        changes.record(session, KIND, attempt_id, [clinician_id], at, gone_from=[previous])
