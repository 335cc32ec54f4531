"""Who calls the FHIR API: a system client's bearer token, checked for each route's scope."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.api.deps import AddressDep, ClockDep, SessionDep, SettingsDep
from server.fhir import clients, scopes
from server.fhir.outcome import FhirError
from server.models.system_client import SystemClient
from server.models.user import User
from server.services.caller import Caller

_bearer = HTTPBearer(auto_error=False, description="A token from POST /fhir/r4/token.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="fhir"'}


@dataclass(frozen=True, slots=True)
class SystemCaller:
    caller: Caller  # the client's account, as a hospital system (books "not invited")
    client: SystemClient


def _authenticate(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    address: AddressDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    resource: str,
    permission: str,
) -> SystemCaller:
    if credentials is None:
        raise FhirError(401, "A bearer token from /fhir/r4/token is required.", headers=_CHALLENGE)
    now = clock.now()
    try:
        claims = clients.read_token(settings.signing_key(), credentials.credentials, now)
    except clients.InvalidClientToken:
        message = "The access token is invalid or expired."
        raise FhirError(401, message, headers=_CHALLENGE) from None
    client = session.get(SystemClient, claims.client_id)
    user = session.get(User, client.user_id) if client is not None else None
    if client is None or user is None or not client.is_active:
        raise FhirError(401, "This client is disabled.", headers=_CHALLENGE)
    if not scopes.allows(scopes.parse(claims.scope), resource, permission):
        raise FhirError(403, f"This needs the scope system/{resource}.{permission}.")
    return SystemCaller(Caller(user=user, address=address, now=now, system=True), client)


def require(resource: str, permission: str) -> Callable[..., SystemCaller]:
    """A dependency: the system client, if its token has `permission` on `resource` (else 403)."""

    def check(
        session: SessionDep,
        settings: SettingsDep,
        clock: ClockDep,
        address: AddressDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> SystemCaller:
        return _authenticate(
            session, settings, clock, address, credentials, resource, permission
        )

    return check
