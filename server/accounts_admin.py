"""Creating accounts outside HTTP: used by `create-user` and `seed-demo`."""

from datetime import datetime
from uuid import UUID

from sqlmodel import Session

from server.models.user import User
from server.security.passwords import MIN_PASSWORD_LENGTH, Passwords
from server.services.accounts import find_user
from shared.enums import Role


class AccountError(Exception):
    """The account cannot be created as asked (taken name, weak password)."""


def add_user(
    session: Session,
    passwords: Passwords,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    now: datetime,
    user_id: UUID | None = None,
) -> User:
    """A new active user (the caller commits); `user_id` fixes the id (the embedded demo's)."""
    name = username.strip().lower()
    if not name:
        raise AccountError("the username is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(session, name) is not None:
        raise AccountError(f"the username {name!r} is taken")
    user = User(
        username=name,
        full_name=full_name.strip() or name,
        role=role,
        password_hash=passwords.hash(password),
        created_at=now,
    )
    if user_id is not None:
        user.id = user_id
    session.add(user)
    session.flush()
    return user
