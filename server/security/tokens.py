"""Access tokens (HS256 JWT, short-lived) and refresh tokens (opaque, stored as a hash)."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import jwt

_ALGORITHM = "HS256"
_ISSUER = "clinic-desk"


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong kind."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID
    family_id: UUID
    expires_at: datetime


def issue_access_token(
    secret: str, user_id: UUID, family_id: UUID, now: datetime, lifetime: timedelta
) -> str:
    claims = {
        "iss": _ISSUER,
        "typ": "access",
        "sub": str(user_id),
        "sid": str(family_id),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_access_token(secret: str, token: str, now: datetime) -> AccessClaims:
    """The claims of a valid token; expiry is checked against the server clock `now`."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub", "sid"]},
        )
        if claims.get("typ") != "access":
            raise InvalidToken("not an access token")
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
        user_id, family_id = UUID(str(claims["sub"])), UUID(str(claims["sid"]))
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if expires_at <= now:
        raise InvalidToken("expired")
    return AccessClaims(user_id, family_id, expires_at)


@dataclass(frozen=True, slots=True)
class RefreshSecret:
    """What the client gets ("<token id>.<secret>") and what the server keeps (the hash)."""

    token_id: UUID
    token: str
    secret_hash: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_refresh_secret(token_id: UUID) -> RefreshSecret:
    secret = secrets.token_urlsafe(32)
    return RefreshSecret(token_id, f"{token_id.hex}.{secret}", hash_secret(secret))


def successor_refresh_secret(key: str, token_id: UUID, secret: str) -> RefreshSecret:
    """The token that replaces `token_id`.`secret` at rotation, derived rather than random.

    Why: the server keeps only hashes, yet a desktop whose refresh answer was lost must get the
    same new token again when it retries. Only the holder of the old secret and the server (the
    key) can compute it.
    """
    message = b"refresh-successor\x00" + token_id.bytes + secret.encode()
    digest = hmac.new(key.encode(), message, hashlib.sha512).digest()
    successor_id = UUID(bytes=digest[:16], version=4)
    successor = base64.urlsafe_b64encode(digest[16:48]).rstrip(b"=").decode()
    return RefreshSecret(successor_id, f"{successor_id.hex}.{successor}", hash_secret(successor))


def split_refresh_token(token: str) -> tuple[UUID, str]:
    """The token id and secret of a presented refresh token."""
    token_id, _, secret = token.partition(".")
    try:
        return UUID(hex=token_id), secret
    except ValueError as exc:
        raise InvalidToken("malformed refresh token") from exc


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)
