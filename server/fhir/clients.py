"""System clients: creating one (CLI), checking its secret, and its short-lived access tokens."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import jwt
from sqlmodel import Session, select

from server.fhir import scopes
from server.models.system_client import SystemClient
from server.models.user import User
from server.security.tokens import hash_secret, secret_matches
from shared.enums import Role

TOKEN_LIFETIME = timedelta(hours=1)
_ALGORITHM = "HS256"
_ISSUER = "clinic-desk"
_TYPE = "fhir-system"
_CLIENT_ID = r"[A-Za-z0-9._-]{1,40}"


class ClientError(Exception):
    """The client cannot be created (bad id or scopes, or the id is taken)."""


class InvalidClientToken(Exception):
    """The bearer token is malformed, forged, expired or not a system client's."""


@dataclass(frozen=True, slots=True)
class NewClient:
    client: SystemClient
    secret: str  # shown once; only its hash is kept


@dataclass(frozen=True, slots=True)
class ClientClaims:
    client_id: UUID
    scope: str


def add_client(
    session: Session, client_id: str, name: str, scope_text: str, now: datetime
) -> NewClient:
    if re.fullmatch(_CLIENT_ID, client_id) is None:
        raise ClientError("the client id must be 1-40 letters, digits, '.', '_' or '-'")
    try:
        if not scopes.parse(scope_text):
            raise ClientError("give at least one scope, e.g. system/Appointment.rs")
    except scopes.ScopeError as exc:
        raise ClientError(str(exc)) from exc
    if find(session, client_id) is not None:
        raise ClientError(f"a client {client_id} exists already")
    user = User(
        username=f"fhir:{client_id}",
        full_name=(name or client_id)[:200],
        role=Role.CLERK,
        password_hash="!",  # nobody signs in as it: it only names the actor
        is_active=False,
        created_at=now,
    )
    session.add(user)
    session.flush()
    secret = secrets.token_urlsafe(32)
    client = SystemClient(
        client_id=client_id,
        name=(name or client_id)[:200],
        secret_hash=hash_secret(secret),
        scopes=" ".join(scope_text.split()),
        user_id=user.id,
        created_at=now,
    )
    session.add(client)
    session.flush()
    return NewClient(client, secret)


def find(session: Session, client_id: str) -> SystemClient | None:
    return session.exec(select(SystemClient).where(SystemClient.client_id == client_id)).first()


def check_secret(session: Session, client_id: str, secret: str) -> SystemClient | None:
    """The active client with this id and secret, else None."""
    client = find(session, client_id)
    if client is None or not client.is_active:
        secret_matches(secret, "0" * 64)  # the same work whether or not the id exists
        return None
    return client if secret_matches(secret, client.secret_hash) else None


def issue_token(key: str, client: SystemClient, scope: str, now: datetime) -> str:
    claims = {
        "iss": _ISSUER,
        "typ": _TYPE,
        "sub": str(client.id),
        "scope": scope,
        "iat": int(now.timestamp()),
        "exp": int((now + TOKEN_LIFETIME).timestamp()),
    }
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def read_token(key: str, token: str, now: datetime) -> ClientClaims:
    try:
        claims = jwt.decode(
            token, key, algorithms=[_ALGORITHM], issuer=_ISSUER,
            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub"]},
        )
        if claims.get("typ") != _TYPE:
            raise InvalidClientToken("not a system client's token")
        expired = int(claims["exp"]) <= now.timestamp()
        result = ClientClaims(UUID(str(claims["sub"])), str(claims.get("scope", "")))
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidClientToken(str(exc)) from exc
    if expired:
        raise InvalidClientToken("expired")
    return result
