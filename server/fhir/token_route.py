"""POST /fhir/r4/token: OAuth2 client credentials (RFC 6749 4.4) for system clients."""

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from server.api.deps import AddressDep, ClockDep, SessionDep, SettingsDep
from server.fhir import clients, scopes
from server.models.user import User
from server.services import audit
from server.services.caller import Caller

router = APIRouter()
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="fhir"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


class _BadForm(Exception):
    pass


async def _form(request: Request) -> dict[str, str]:
    """The form fields, the client's id and secret also from HTTP Basic (RFC 6749 2.3.1)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise _BadForm("Send the request form-encoded (application/x-www-form-urlencoded).")
    try:
        pairs = parse_qsl((await request.body()).decode(), strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise _BadForm("The form cannot be read.") from None
    form = dict(pairs)
    if len(pairs) != len(form):
        raise _BadForm("A form field is repeated.")
    basic = request.headers.get("authorization", "")
    if basic[:6].lower() == "basic ":
        try:
            user, _, password = base64.b64decode(basic[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _BadForm("The Basic authorization header cannot be read.") from None
        form["client_id"], form["client_secret"] = user, password
    return form


@router.post("/token")
async def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    address: AddressDep,
) -> Any:
    now = clock.now()
    try:
        form = await _form(request)
    except _BadForm as exc:
        return _oauth_error(400, "invalid_request", str(exc))
    grant_type, scope = form.get("grant_type", ""), form.get("scope")
    client_id, client_secret = form.get("client_id", "")[:64], form.get("client_secret", "")
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Use grant_type=client_credentials.")
    client = clients.check_secret(session, client_id, client_secret)
    if client is None:
        audit.record_anonymous(session, now, address, "fhir.token_refused", client_id[:64])
        session.commit()
        return _oauth_error(401, "invalid_client", "Unknown client or wrong secret.")
    try:
        granted = scopes.grant(client.scopes, scope)
    except scopes.ScopeError as exc:
        return _oauth_error(400, "invalid_scope", str(exc))
    if not granted:
        return _oauth_error(400, "invalid_scope", "None of the requested scopes is allowed.")
    user = session.get(User, client.user_id)
    assert user is not None
    audit.record(session, Caller(user, address, now, system=True), "fhir.token", "system_client",
                 client.id, f"scope={granted}")
    session.commit()
    return JSONResponse(
        {
            "access_token": clients.issue_token(settings.signing_key(), client, granted, now),
            "token_type": "bearer",
            "expires_in": int(clients.TOKEN_LIFETIME.total_seconds()),
            "scope": granted,
        },
        headers=_NO_STORE,
    )
