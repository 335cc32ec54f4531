"""Who may see an appointment: the desktops its realtime events (presence, signals) go to.

The mirror of server/security/access_rules.visible_clinicians: the clinician, the clinicians it
delegated to, and the clerks assigned to it. One query per event, however many desktops are
connected.
"""

from uuid import UUID

from sqlmodel import Session, col, select, union

from server.models.access import Assignment, Delegation
from server.models.appointment import Appointment
from server.models.user import User
from shared.enums import Role


def schedule_audience(session: Session, clinician_id: UUID) -> frozenset[UUID]:
    """The users who may see `clinician_id`'s schedule."""
    own = select(User.id).where(User.id == clinician_id, User.role == Role.CLINICIAN)
    delegates = (
        select(Delegation.delegate_id)
        .join(User, col(User.id) == col(Delegation.delegate_id))
        .where(Delegation.owner_id == clinician_id, User.role == Role.CLINICIAN)
    )
    clerks = (
        select(Assignment.clerk_id)
        .join(User, col(User.id) == col(Assignment.clerk_id))
        .where(Assignment.clinician_id == clinician_id, User.role == Role.CLERK)
    )
    return frozenset(session.scalars(union(own, delegates, clerks)))


def appointment_audience(session: Session, appointment_id: UUID) -> frozenset[UUID] | None:
    """The users who may see the appointment; None when there is no such appointment."""
    clinician_id = session.scalar(
        select(Appointment.clinician_id).where(Appointment.id == appointment_id)
    )
    return None if clinician_id is None else schedule_audience(session, clinician_id)
