"""The user table: staff accounts with a role and an argon2 password hash."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import String
from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime
from shared.enums import Role


class User(ServerTable, table=True):
    __tablename__ = "user_account"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(max_length=200)
    role: Role = Field(sa_type=String(16))
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
