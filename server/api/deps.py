"""FastAPI dependencies: the database session, the caller, and role checks (Annotated)."""

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from server.app_state import StateDep
from server.errors import unauthenticated
from server.models.token import TokenFamily
from server.models.user import User
from server.security.access_rules import require_role
from server.security.client_address import client_address
from server.security.passwords import Passwords
from server.security.rate_limit import LoginThrottle
from server.security.tokens import InvalidToken, read_access_token
from server.services.caller import Caller
from server.session_effects import ServerSession
from server.settings import Settings
from shared.clock import Clock
from shared.enums import Role

_bearer = HTTPBearer(auto_error=False, description="The access token from /auth/login.")


def get_session(state: StateDep) -> Iterator[Session]:
    """A request's session: its commits tell the hub, wake the invite and outbound HL7
    workers, close rooms."""
    sender = state.invite_sender
    with ServerSession(
        state.engine,
        expire_on_commit=False,
        hub=state.hub,
        wake_invites=sender.wake if sender is not None else None,
        rooms=state.group_rooms,
        hl7_outbound=state.hl7_outbound,
    ) as session:
        yield session


def get_settings(state: StateDep) -> Settings:
    return state.settings


def get_clock(state: StateDep) -> Clock:
    return state.clock


def get_passwords(state: StateDep) -> Passwords:
    return state.passwords


def get_limiter(state: StateDep) -> LoginThrottle:
    return state.limiter


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
LimiterDep = Annotated[LoginThrottle, Depends(get_limiter)]
AddressDep = Annotated[str, Depends(client_address)]


def current_caller(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    address: AddressDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The signed-in user: a valid access token of a live session of an active account."""
    if credentials is None:
        raise unauthenticated()
    now = clock.now()
    user = authenticate(session, settings, credentials.credentials, now)
    return Caller(user=user, address=address, now=now)


def authenticate(session: Session, settings: Settings, token: str, now: datetime) -> User:
    """The active user of a valid access token of a live session (401 otherwise)."""
    try:
        claims = read_access_token(settings.signing_key(), token, now)
    except InvalidToken:
        raise unauthenticated("The access token is invalid or expired.") from None
    family = session.get(TokenFamily, claims.family_id)
    if family is None or family.revoked_at is not None or family.user_id != claims.user_id:
        raise unauthenticated("This session has ended; sign in again.")
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise unauthenticated("This account is disabled.")
    return user


def with_role(*roles: Role) -> Callable[[Caller], Caller]:
    """A dependency that lets only `roles` through (access_rules.require_role: 403 otherwise)."""

    def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        require_role(caller.user, *roles)
        return caller

    return check


AnyUser = Annotated[Caller, Depends(current_caller)]
Admin = Annotated[Caller, Depends(with_role(Role.ADMIN))]
#: Clinicians and clerks: the people who work with patients.
Staff = Annotated[Caller, Depends(with_role(Role.CLINICIAN, Role.CLERK))]
Clerk = Annotated[Caller, Depends(with_role(Role.CLERK))]
