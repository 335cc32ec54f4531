"""Who may do what: every role and ownership rule of the REST, sync and realtime APIs.

Routes and services call these instead of comparing roles inline; the dependencies in
server/api/deps.py (`Admin`, `Staff`, `Clerk`) use `require_role`. Who hears an appointment's
events is the mirror of `visible_clinicians`: server/services/audience.py. The FHIR API's
scopes are server/fhir/access.py.
"""

from uuid import UUID

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, or_, select

from server.errors import ApiError, forbidden
from server.models.access import Assignment, Delegation
from server.models.task import Task
from server.models.user import User
from server.services.caller import Caller
from shared.enums import Role

#: The people who work with patients: they book, see schedules and use the realtime socket.
STAFF_ROLES = frozenset({Role.CLINICIAN, Role.CLERK})


def require_role(user: User, *roles: Role) -> None:
    """403 unless `user` has one of `roles`."""
    if user.role not in roles:
        names = ", ".join(role.value for role in roles)
        raise forbidden(f"This needs the role {names}.")


def may_use_realtime(user: User) -> bool:
    """The staff realtime socket is for clinicians and clerks (admins have no schedule)."""
    return user.role in STAFF_ROLES


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


def require_visible(
    session: Session,
    user: User,
    clinician_id: UUID,
    refusal: str = "You may not see this clinician's schedule.",
) -> None:
    """403 (with `refusal`) unless `user` sees `clinician_id`'s schedule."""
    if clinician_id not in visible_clinicians(session, user):
        raise forbidden(refusal)


def require_bookable(session: Session, caller: Caller, clinician_id: UUID) -> None:
    """403 unless the caller may book for the clinician; a hospital system books for anyone."""
    if caller.system:
        return
    if clinician_id not in bookable_clinicians(session, caller.user):
        raise forbidden("You may not book for this clinician.")


def tasks_of(user_id: UUID) -> ColumnElement[bool]:
    """The tasks a user may see and change: assigned to them or created by them."""
    return or_(col(Task.assignee_id) == user_id, col(Task.created_by_id) == user_id)


def require_task_party(user: User, task: Task) -> None:
    """403 unless `user` is the task's assignee or creator."""
    if user.id not in (task.assignee_id, task.created_by_id):
        raise forbidden("This task is neither yours nor created by you.")


def assignments_seen_by(user: User) -> ColumnElement[bool] | None:
    """Which assignments `user` may list: all (admin, None), their own (clerk); 403 otherwise."""
    if user.role == Role.CLERK:
        return col(Assignment.clerk_id) == user.id
    if user.role != Role.ADMIN:
        raise forbidden("This needs the role admin or clerk.")
    return None


def delegations_seen_by(user: User) -> ColumnElement[bool] | None:
    """Which delegations `user` may list: all (admin, None), those they are part of
    (clinician); 403 otherwise."""
    if user.role == Role.CLINICIAN:
        me = user.id
        return or_(col(Delegation.owner_id) == me, col(Delegation.delegate_id) == me)
    if user.role != Role.ADMIN:
        raise forbidden("This needs the role admin or clinician.")
    return None


def refuse_self_lockout(
    caller: Caller, target: User, role: Role | None, is_active: bool | None
) -> None:
    """409 when an admin would disable or demote their own account (nobody left to undo it)."""
    if target.id == caller.user.id and (is_active is False or role not in (None, Role.ADMIN)):
        raise ApiError(409, "self_lockout", "You cannot disable or demote your own account.")
