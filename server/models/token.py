"""Refresh tokens: each login starts a family; every refresh rotates to a new token in it."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime


class TokenFamily(ServerTable, table=True):
    """One signed-in session. Revoking it ends every refresh and access token issued in it."""

    __tablename__ = "token_family"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    user_id: UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Why it was revoked: "logout", "reuse", "user_disabled".
    revoked_reason: str = Field(default="", max_length=32)


class RefreshToken(ServerTable, table=True):
    __tablename__ = "refresh_token"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    family_id: UUID = Field(foreign_key="token_family.id", index=True, ondelete="CASCADE")
    #: SHA-256 of the secret part; the secret itself is never stored.
    secret_hash: str = Field(max_length=64)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    #: Set when this token was exchanged for the next one; presenting it again is reuse.
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
