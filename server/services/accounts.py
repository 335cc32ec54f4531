"""Sign-in sessions: login, refresh-token rotation with reuse detection, logout."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlmodel import Session, col, select, update

from server.models.token import RefreshToken, TokenFamily
from server.models.user import User
from server.realtime import notify
from server.realtime.delivery import Revocation
from server.security.tokens import (
    InvalidToken,
    issue_access_token,
    new_refresh_secret,
    secret_matches,
    split_refresh_token,
)
from server.settings import Settings


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: UUID
    family_id: UUID


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked, or was already used (reuse)."""

    def __init__(self, reason: str, user_id: UUID | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user_id = user_id


def _issue(
    session: Session, settings: Settings, user_id: UUID, family_id: UUID, now: datetime
) -> IssuedTokens:
    refresh = new_refresh_secret(uuid4())
    session.add(
        RefreshToken(
            id=refresh.token_id,
            family_id=family_id,
            secret_hash=refresh.secret_hash,
            issued_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    lifetime = timedelta(minutes=settings.access_token_minutes)
    access = issue_access_token(
        settings.secret_key.get_secret_value(), user_id, family_id, now, lifetime
    )
    return IssuedTokens(access, refresh.token, int(lifetime.total_seconds()), user_id, family_id)


def start_session(session: Session, settings: Settings, user: User, now: datetime) -> IssuedTokens:
    """A new token family for `user` and its first tokens (the caller commits)."""
    family = TokenFamily(user_id=user.id, created_at=now)
    session.add(family)
    session.flush()
    return _issue(session, settings, user.id, family.id, now)


def revoke_family(session: Session, family: TokenFamily, reason: str, now: datetime) -> None:
    if family.revoked_at is None:
        family.revoked_at = now
        family.revoked_reason = reason
        session.add(family)
        notify.send(session, Revocation(family_id=family.id))


def revoke_user_sessions(session: Session, user_id: UUID, reason: str, now: datetime) -> None:
    session.execute(
        update(TokenFamily)
        .where(col(TokenFamily.user_id) == user_id, col(TokenFamily.revoked_at).is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    notify.send(session, Revocation(user_id=user_id))


def _find(session: Session, token: str, now: datetime) -> tuple[RefreshToken, TokenFamily]:
    try:
        token_id, secret = split_refresh_token(token)
    except InvalidToken:
        raise RefreshRefused("malformed") from None
    row = session.get(RefreshToken, token_id)
    if row is None or not secret_matches(secret, row.secret_hash):
        raise RefreshRefused("unknown")
    family = session.get(TokenFamily, row.family_id)
    assert family is not None  # a foreign key
    return row, family


def rotate(session: Session, settings: Settings, token: str, now: datetime) -> IssuedTokens:
    """Exchange a refresh token for new tokens; a used token revokes its whole family.

    On reuse the revocation is flushed before RefreshRefused is raised: the caller commits it.
    """
    row, family = _find(session, token, now)
    if family.revoked_at is not None:
        raise RefreshRefused("revoked", family.user_id)
    if row.used_at is not None:
        revoke_family(session, family, "reuse", now)
        session.flush()
        raise RefreshRefused("reuse", family.user_id)
    if row.expires_at <= now:
        raise RefreshRefused("expired", family.user_id)
    user = session.get(User, family.user_id)
    if user is None or not user.is_active:
        revoke_family(session, family, "user_disabled", now)
        session.flush()
        raise RefreshRefused("disabled", family.user_id)
    # Mark used with a guarded UPDATE: of two concurrent refreshes only one can win.
    marked = session.connection().execute(
        update(RefreshToken)
        .where(col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None))
        .values(used_at=now)
    )
    if marked.rowcount != 1:
        revoke_family(session, family, "reuse", now)
        session.flush()
        raise RefreshRefused("reuse", family.user_id)
    return _issue(session, settings, family.user_id, family.id, now)


def end_session(session: Session, token: str, now: datetime) -> UUID:
    """Revoke the family of `token` (logout); the user's id is returned for the audit log."""
    _row, family = _find(session, token, now)
    revoke_family(session, family, "logout", now)
    return family.user_id


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.strip().lower())).first()
