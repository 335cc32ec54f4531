"""Sign-in: /auth/login (throttled), /auth/refresh (rotating), /auth/logout."""

import hashlib
import hmac
from datetime import datetime

from fastapi import APIRouter, Response, status

from server.api.deps import (
    AddressDep,
    ClockDep,
    LimiterDep,
    PasswordsDep,
    SessionDep,
    SettingsDep,
)
from server.api.error_responses import error_responses
from server.errors import ApiError, unauthenticated
from server.models.audit import AuditEvent
from server.models.user import User
from server.schemas.accounts import LoginRequest, RefreshRequest, TokenPair
from server.security.rate_limit import LoginThrottle, Refusal
from server.services import accounts
from server.services.accounts import IssuedTokens, RefreshRefused
from server.services.audit import record_anonymous

router = APIRouter(prefix="/auth", tags=["auth"])


def _pair(tokens: IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


def _typed_name(user: User | None, username: str, settings: SettingsDep) -> str:
    """The audit log's record of what was typed as the username of a failed sign-in.

    A known account's name as is; anything else (people type passwords there) only as a keyed
    hash, enough to see the same string tried again and no more.
    """
    if user is not None:
        return f"username={user.username}"
    key = settings.signing_key().encode()
    typed = username.strip().lower().encode()
    return f"username_hash={hmac.new(key, typed, hashlib.sha256).hexdigest()[:16]}"


def _throttled(refusal: Refusal) -> ApiError:
    if refusal.scope == "address":
        message = "Too many failed sign-ins from this network."
    else:
        message = "Too many failed sign-ins to this account from here."
    return ApiError(
        429,
        "rate_limited",
        f"{message} Try again in {refusal.seconds} seconds.",
        headers={"Retry-After": str(refusal.seconds)},
    )


def _record_failure(
    session: SessionDep,
    limiter: LoginThrottle,
    now: datetime,
    address: str,
    username: str,
    typed: str,
) -> None:
    """Count a failed sign-in, and audit the throttling it starts (a delay, the ceiling)."""
    for started in limiter.record_failure(username, address, now.timestamp()):
        action = "auth.login_throttled" if started.scope == "account" else "auth.address_ceiling"
        record_anonymous(session, now, address, action, f"{typed} delay={started.seconds}s")


@router.post(
    "/login",
    summary="Sign in with username and password",
    responses=error_responses(401, 429),
)
def login(
    body: LoginRequest,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    passwords: PasswordsDep,
    limiter: LimiterDep,
    address: AddressDep,
) -> TokenPair:
    now = clock.now()
    refusal = limiter.retry_after(body.username, address, now.timestamp())
    if refusal is not None:
        raise _throttled(refusal)
    user = accounts.find_user(session, body.username)
    if user is None:
        passwords.burn(body.password)
    ok = user is not None and passwords.verify(user.password_hash, body.password)
    if user is None or not ok or not user.is_active:
        typed = _typed_name(user, body.username, settings)
        record_anonymous(session, now, address, "auth.login_failed", typed)
        _record_failure(session, limiter, now, address, body.username, typed)
        session.commit()
        raise unauthenticated("Wrong username or password, or the account is disabled.")
    limiter.record_success(body.username, address)
    tokens = accounts.start_session(session, settings, user, now)
    session.add(
        AuditEvent(
            at=now,
            actor_id=user.id,
            action="auth.login",
            entity_type="user",
            entity_id=str(user.id),
            address=address,
        )
    )
    session.commit()
    return _pair(tokens)


def _refused(session: SessionDep, error: RefreshRefused, address: str, clock: ClockDep) -> ApiError:
    now = clock.now()
    session.add(
        AuditEvent(
            at=now,
            actor_id=error.user_id,
            action=f"auth.refresh_{error.reason}",
            entity_type="auth",
            address=address,
        )
    )
    session.commit()
    if error.reason == "reuse":
        return unauthenticated(
            "This refresh token was already used; every session token is revoked."
        )
    return unauthenticated("The refresh token is invalid, expired or revoked; sign in again.")


@router.post(
    "/refresh",
    summary="Exchange a refresh token for new tokens",
    responses=error_responses(401),
)
def refresh(
    body: RefreshRequest,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    address: AddressDep,
) -> TokenPair:
    try:
        tokens = accounts.rotate(session, settings, body.refresh_token, clock.now())
    except RefreshRefused as error:
        raise _refused(session, error, address, clock) from None
    if tokens.replayed:
        session.add(
            AuditEvent(
                at=clock.now(),
                actor_id=tokens.user_id,
                action="auth.refresh_replayed",
                entity_type="auth",
                address=address,
            )
        )
    session.commit()
    return _pair(tokens)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this session",
    responses=error_responses(401),
)
def logout(
    body: RefreshRequest, session: SessionDep, clock: ClockDep, address: AddressDep
) -> Response:
    now = clock.now()
    try:
        user_id = accounts.end_session(session, body.refresh_token, now)
    except RefreshRefused as error:
        raise _refused(session, error, address, clock) from None
    session.add(
        AuditEvent(
            at=now,
            actor_id=user_id,
            action="auth.logout",
            entity_type="user",
            entity_id=str(user_id),
            address=address,
        )
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
