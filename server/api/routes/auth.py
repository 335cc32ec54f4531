"""Sign-in: /auth/login, /auth/refresh (rotating), /auth/logout."""

from fastapi import APIRouter, Response, status

from server.api.deps import (
    AddressDep,
    ClockDep,
    LimiterDep,
    PasswordsDep,
    SessionDep,
    SettingsDep,
)
from server.errors import ApiError, unauthenticated
from server.models.audit import AuditEvent
from server.schemas.accounts import LoginRequest, RefreshRequest, TokenPair
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


@router.post("/login", summary="Sign in with username and password")
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
    wait = limiter.retry_after(body.username, address, now.timestamp())
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many failed sign-ins. Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    user = accounts.find_user(session, body.username)
    if user is None:
        passwords.burn(body.password)
    ok = user is not None and passwords.verify(user.password_hash, body.password)
    if user is None or not ok or not user.is_active:
        limiter.record_failure(body.username, address, now.timestamp())
        record_anonymous(
            session, now, address, "auth.login_failed", f"username={body.username[:64]}"
        )
        session.commit()
        raise unauthenticated("Wrong username or password, or the account is disabled.")
    limiter.record_success(body.username)
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


@router.post("/refresh", summary="Exchange a refresh token for new tokens")
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
    session.commit()
    return _pair(tokens)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
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
