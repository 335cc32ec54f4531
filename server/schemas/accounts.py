"""Schemas of sign-in, tokens and user accounts."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from server.security.passwords import MIN_PASSWORD_LENGTH
from shared.enums import Role
from shared.validation import text_problem


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    #: Seconds the access token is valid for.
    expires_in: int


def _one_line_name(value: str | None) -> str | None:
    # A name is shown on every desktop and in invites: one line, no control characters.
    problem = None if value is None else text_problem(value, "the full name")
    if problem is not None:
        raise ValueError(problem)
    return value


class UserBase(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    role: Role

    _full_name_one_line = field_validator("full_name")(_one_line_name)


def _strong(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


class UserCreate(UserBase):
    password: str = Field(max_length=1024)

    @field_validator("password")
    @classmethod
    def _strong_password(cls, value: str) -> str:
        return _strong(value)


class UserUpdate(BaseModel):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, max_length=1024)

    _full_name_one_line = field_validator("full_name")(_one_line_name)

    @field_validator("password")
    @classmethod
    def _strong_password(cls, value: str | None) -> str | None:
        return None if value is None else _strong(value)


class UserPublic(UserBase):
    id: UUID
    is_active: bool
    created_at: datetime


class StaffPublic(BaseModel):
    """A colleague as every clinician and clerk sees them: for booking and the schedule."""

    id: UUID
    full_name: str
    role: Role
