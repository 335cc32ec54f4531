"""Sign-in sessions: login, refresh-token rotation with reuse detection, logout.

A rotation whose answer was lost may be retried: the same token, within the grace window and
before its successor was used, gets the same new pair back. Any other reuse revokes the session.
"""

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
    RefreshSecret,
    issue_access_token,
    new_refresh_secret,
    secret_matches,
    split_refresh_token,
    successor_refresh_secret,
)
from server.settings import Settings


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: UUID
    family_id: UUID
    #: True when a lost answer's retry got the pair it was given before.
    replayed: bool = False


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked, or was already used (reuse)."""

    def __init__(self, reason: str, user_id: UUID | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user_id = user_id


def _issue(
    session: Session,
    settings: Settings,
    user_id: UUID,
    family_id: UUID,
    now: datetime,
    refresh: RefreshSecret,
) -> IssuedTokens:
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
        settings.signing_key(), user_id, family_id, now, lifetime
    )
    return IssuedTokens(access, refresh.token, int(lifetime.total_seconds()), user_id, family_id)


def start_session(session: Session, settings: Settings, user: User, now: datetime) -> IssuedTokens:
    """A new token family for `user` and its first tokens (the caller commits)."""
    family = TokenFamily(user_id=user.id, created_at=now)
    session.add(family)
    session.flush()
    return _issue(session, settings, user.id, family.id, now, new_refresh_secret(uuid4()))


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


def _find(session: Session, token: str) -> tuple[RefreshToken, TokenFamily, str]:
    """The token's row, its family, and its secret part."""
    try:
        token_id, secret = split_refresh_token(token)
    except InvalidToken:
        raise RefreshRefused("malformed") from None
    row = session.get(RefreshToken, token_id)
    if row is None or not secret_matches(secret, row.secret_hash):
        raise RefreshRefused("unknown")
    family = session.get(TokenFamily, row.family_id)
    assert family is not None  # a foreign key
    return row, family, secret


def _successor(settings: Settings, row: RefreshToken, secret: str) -> RefreshSecret:
    return successor_refresh_secret(settings.signing_key(), row.id, secret)


def _replay(
    session: Session,
    settings: Settings,
    row: RefreshToken,
    secret: str,
    family: TokenFamily,
    now: datetime,
) -> IssuedTokens:
    """The pair a used token was exchanged for, if its retry is innocent; else revoke (reuse).

    Innocent: within the grace window of the exchange, and the new token not used yet (once
    the new token is in use, the old one can only be in someone else's hands).
    """
    successor = _successor(settings, row, secret)
    following = session.get(RefreshToken, successor.token_id)
    grace = timedelta(seconds=settings.refresh_grace_seconds)
    if (
        row.used_at is None
        or now - row.used_at > grace
        or following is None
        or following.family_id != family.id
        or following.used_at is not None
        or following.secret_hash != successor.secret_hash
    ):
        revoke_family(session, family, "reuse", now)
        session.flush()
        raise RefreshRefused("reuse", family.user_id)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    # Issued again at the same instant with the same claims: the very same access token.
    access = issue_access_token(
        settings.signing_key(),
        family.user_id,
        family.id,
        following.issued_at,
        lifetime,
    )
    left = int((following.issued_at + lifetime - now).total_seconds())
    return IssuedTokens(
        access, successor.token, max(1, left), family.user_id, family.id, replayed=True
    )


def rotate(session: Session, settings: Settings, token: str, now: datetime) -> IssuedTokens:
    """Exchange a refresh token for new tokens; a used token revokes its whole family, except
    for the retry of a lost answer (`_replay`).

    On reuse the revocation is flushed before RefreshRefused is raised: the caller commits it.
    """
    row, family, secret = _find(session, token)
    if family.revoked_at is not None:
        raise RefreshRefused("revoked", family.user_id)
    if row.used_at is not None:
        return _replay(session, settings, row, secret, family, now)
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
        # A concurrent retry of the same token won: it committed the successor, now visible.
        session.refresh(row)
        return _replay(session, settings, row, secret, family, now)
    successor = _successor(settings, row, secret)
    return _issue(session, settings, family.user_id, family.id, now, successor)


def end_session(session: Session, token: str, now: datetime) -> UUID:
    """Revoke the family of `token` (logout); the user's id is returned for the audit log."""
    _row, family, _secret = _find(session, token)
    revoke_family(session, family, "logout", now)
    return family.user_id


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.strip().lower())).first()
