"""Whose schedules a user may see and book: the access rules of clerks and clinicians."""

from uuid import UUID

from sqlmodel import Session, select

from app.domain.enums import Role
from server.errors import forbidden
from server.models.access import Assignment, Delegation
from server.models.user import User


def visible_clinicians(session: Session, user: User) -> set[UUID]:
    """Clinicians whose schedules `user` may read."""
    if user.role == Role.CLINICIAN:
        owners = session.exec(select(Delegation.owner_id).where(Delegation.delegate_id == user.id))
        return {user.id, *owners}
    if user.role == Role.CLERK:
        return bookable_clinicians(session, user)
    return set()


def bookable_clinicians(session: Session, user: User) -> set[UUID]:
    """Clinicians for whom `user` may book, edit and cancel: a clerk's assigned ones, or oneself."""
    if user.role == Role.CLINICIAN:
        return {user.id}
    if user.role == Role.CLERK:
        rows = session.exec(select(Assignment.clinician_id).where(Assignment.clerk_id == user.id))
        return set(rows)
    return set()


def require_visible(session: Session, user: User, clinician_id: UUID) -> None:
    if clinician_id not in visible_clinicians(session, user):
        raise forbidden("You may not see this clinician's schedule.")


def require_bookable(session: Session, user: User, clinician_id: UUID) -> None:
    if clinician_id not in bookable_clinicians(session, user):
        raise forbidden("You may not book for this clinician.")
