"""Queueing patient invites (booked, resent, rescheduled, cancelled) and their delivery state.

Booking, rescheduling and cancelling queue one invite per recipient in the same transaction as
the change (the patient, and each participant of a group appointment). The invite worker
(invite_sender.py) sends them; each outcome updates the appointment's `invite_status` and
`invite_error` and appends a change so desktops pull it. Invites are on when the request's
session was made with the worker's wake (ServerSession(wake_invites=...), server/
session_effects.py): with no SMTP server set up nothing is queued.
"""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select, update

from server.models.appointment import Appointment, AppointmentParticipant
from server.models.invite import PATIENT, Invite
from server.models.patient import Patient
from server.services import changes
from server.session_effects import effects_of
from shared.enums import AppointmentKind

QUEUED, SENT, FAILED, SUPERSEDED = "queued", "sent", "failed", "superseded"
#: Purposes of an invite, which decide its wording and its calendar method.
BOOKED, RESENT, RESCHEDULED, CANCELLED = "booked", "resent", "rescheduled", "cancelled"
#: Appointment fields whose change tells the patient (an updated calendar entry).
RESCHEDULE_FIELDS = frozenset(
    {"start", "duration_minutes", "clinician_id", "location_id", "kind", "participants"}
)


def enabled(session: Session) -> bool:
    """Invites are on for this session: it was made with the invite worker's wake."""
    effects = effects_of(session)
    return effects is not None and effects.wake_invites is not None


def recipients(session: Session, appointment: Appointment) -> list[tuple[int, str, str]]:
    """(recipient, name, email) of everyone invited who has an email address."""
    found: list[tuple[int, str, str]] = []
    patient = session.get(Patient, appointment.patient_id)
    if patient is not None and patient.email.strip():
        found.append((PATIENT, patient.name, patient.email.strip()))
    if appointment.kind == AppointmentKind.GROUP:
        rows = session.exec(
            select(AppointmentParticipant)
            .where(AppointmentParticipant.appointment_id == appointment.id)
            .order_by(col(AppointmentParticipant.position))
        )
        found.extend((row.position + 1, row.name, row.email) for row in rows if row.email.strip())
    return found


def queue(session: Session, appointment: Appointment, purpose: str, now: datetime) -> bool:
    """Queue `purpose` invites for every recipient; False when invites are off.

    Invites of the appointment not sent yet are superseded: the new ones carry the current time
    and place. The caller records the appointment's change (the status moved to queued).
    """
    if not enabled(session):
        return False
    session.execute(
        update(Invite)
        .where(col(Invite.appointment_id) == appointment.id)
        .where(col(Invite.next_attempt_at).is_not(None))
        .values(status=SUPERSEDED, next_attempt_at=None)
    )
    batch = uuid4()
    people = recipients(session, appointment)
    for recipient, name, email in people:
        session.add(
            Invite(
                appointment_id=appointment.id,
                batch=batch,
                recipient=recipient,
                name=name,
                email=email,
                purpose=purpose,
                status=QUEUED,
                next_attempt_at=now,
                created_at=now,
            )
        )
    if people:
        appointment.invite_status, appointment.invite_error = QUEUED, ""
        effects = effects_of(session)
        assert effects is not None  # enabled() above
        effects.invites_queued = True
    else:
        appointment.invite_status = FAILED
        appointment.invite_error = "No email address: add the patient's email, then resend."
    session.add(appointment)
    session.flush()
    return True


def refresh_status(session: Session, appointment_id: UUID, batch: UUID, now: datetime) -> None:
    """Show the delivery of `batch` on its appointment; a change appends to the change log."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        return
    rows = list(session.exec(select(Invite).where(Invite.batch == batch)))
    failed = [row for row in rows if row.status == FAILED]
    if failed:
        status = FAILED
        error = "; ".join(
            f"{row.email}: {row.last_error}"
            + (" (retrying)" if row.next_attempt_at is not None else " (gave up)")
            for row in failed
        )
    elif any(row.status == QUEUED for row in rows):
        status, error = QUEUED, ""
    else:
        status, error = SENT, ""
    error = error[:500]
    if (appointment.invite_status, appointment.invite_error) == (status, error):
        return
    appointment.invite_status, appointment.invite_error = status, error
    session.add(appointment)
    changes.record(session, "appointment", appointment.id, [appointment.clinician_id], now)


def _after_commit(session: OrmSession) -> None:
    effects = effects_of(session)
    if effects is not None and effects.invites_queued:
        effects.invites_queued = False
        if effects.wake_invites is not None:
            effects.wake_invites()


def _after_rollback(session: OrmSession) -> None:
    effects = effects_of(session)
    if effects is not None:
        effects.invites_queued = False


def install_session_events() -> None:
    """Wake the invite worker after a commit that queued invites (idempotent)."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_rollback", _after_rollback)
