"""Patient-link tokens: 256 random bits, URL-safe; only their SHA-256 is ever stored."""

import hashlib
import secrets

#: Bytes of randomness in a token (256 bits; the brief asks for at least 128).
TOKEN_BYTES = 32
#: Longest token a client may present: anything longer is not ours and is not hashed.
MAX_TOKEN_LENGTH = 128


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The stored form. A plain hash suffices: the token has 256 bits of entropy (no guessing)."""
    return hashlib.sha256(token.encode()).hexdigest()
