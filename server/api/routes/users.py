"""User accounts: admins manage them; everyone reads their own."""

from uuid import UUID

from fastapi import APIRouter, status
from sqlmodel import col, select

from server.api.deps import Admin, AnyUser, PasswordsDep, SessionDep, Staff
from server.api.error_responses import error_responses
from server.errors import ApiError, not_found
from server.models.user import User
from server.schemas.accounts import StaffPublic, UserCreate, UserPublic, UserUpdate
from server.security.access_rules import STAFF_ROLES, refuse_self_lockout
from server.services.accounts import find_user, revoke_user_sessions
from server.services.audit import record
from shared.enums import Role

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", summary="The signed-in user")
def read_me(caller: AnyUser) -> UserPublic:
    return UserPublic.model_validate(caller.user, from_attributes=True)


@router.get(
    "/staff",
    summary="Active clinicians and clerks (names and roles), for booking",
    responses=error_responses(403),
)
def list_staff(session: SessionDep, _caller: Staff) -> list[StaffPublic]:
    query = (
        select(User)
        .where(col(User.is_active).is_(True), col(User.role).in_(STAFF_ROLES))
        .order_by(col(User.full_name))
    )
    return [StaffPublic.model_validate(row, from_attributes=True) for row in session.exec(query)]


@router.get("", summary="List users", responses=error_responses(403))
def list_users(session: SessionDep, _caller: Admin, role: Role | None = None) -> list[UserPublic]:
    query = select(User).order_by(col(User.username))
    if role is not None:
        query = query.where(User.role == role.value)
    return [UserPublic.model_validate(row, from_attributes=True) for row in session.exec(query)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    responses=error_responses(403, 409),
)
def create_user(
    body: UserCreate, session: SessionDep, passwords: PasswordsDep, caller: Admin
) -> UserPublic:
    if find_user(session, body.username) is not None:
        raise ApiError(409, "username_taken", f"The username {body.username} is taken.")
    row = User(
        username=body.username.lower(),
        full_name=body.full_name.strip(),
        role=body.role,
        password_hash=passwords.hash(body.password),
        created_at=caller.now,
    )
    session.add(row)
    record(session, caller, "user.create", "user", row.id, f"role={body.role.value}")
    session.commit()
    return UserPublic.model_validate(row, from_attributes=True)


@router.get("/{user_id}", summary="One user", responses=error_responses(403))
def get_user(user_id: UUID, session: SessionDep, _caller: Admin) -> UserPublic:
    row = session.get(User, user_id)
    if row is None:
        raise not_found("User")
    return UserPublic.model_validate(row, from_attributes=True)


@router.patch(
    "/{user_id}",
    summary="Change a user (name, role, active, password)",
    responses=error_responses(403, 409),
)
def update_user(
    user_id: UUID,
    body: UserUpdate,
    session: SessionDep,
    passwords: PasswordsDep,
    caller: Admin,
) -> UserPublic:
    row = session.get(User, user_id)
    if row is None:
        raise not_found("User")
    refuse_self_lockout(caller, row, body.role, body.is_active)
    changed = body.model_dump(exclude_unset=True, exclude_none=True)
    if body.full_name is not None:
        row.full_name = body.full_name.strip()
    if body.role is not None:
        row.role = body.role
    if body.is_active is not None:
        row.is_active = body.is_active
    if body.password is not None:
        row.password_hash = passwords.hash(body.password)
    if body.is_active is False or body.password is not None or body.role is not None:
        revoke_user_sessions(session, row.id, "account_changed", caller.now)
    session.add(row)
    fields = ",".join(sorted(changed))
    record(session, caller, "user.update", "user", row.id, f"fields={fields}")
    session.commit()
    return UserPublic.model_validate(row, from_attributes=True)
