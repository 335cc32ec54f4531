"""The realtime WebSocket's wire schemas (desktop <-> server), shared with the server.

See docs/sync.md, "Realtime". A client sends auth, ping and signal messages; the server sends
hello, changes, presence, signal, pong and error messages, and closes with the CLOSE_* codes.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

#: The largest text frame a client may send, and the largest signalling payload (JSON bytes).
MAX_CLIENT_FRAME = 65_536
MAX_SIGNAL_PAYLOAD = 32_768

#: Close codes. 4401: the token at sign-in was not valid. 4403: the role may not connect.
#: 4408: no auth message in time. 4409: the client did not read its events.
#: 4410: the session ended (logout, refresh-token reuse, account disabled): sign in again.
#: 4419: the access token expired: refresh it and connect again (or send a fresh auth in time).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_TOO_SLOW = 4409
CLOSE_SESSION_ENDED = 4410
CLOSE_TOKEN_EXPIRED = 4419


class SignalKind(StrEnum):
    OFFER = "offer"
    ANSWER = "answer"
    CANDIDATE = "candidate"
    HANGUP = "hangup"


class PresenceState(StrEnum):
    ENTERED = "entered"
    LEFT = "left"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthMessage(_Message):
    """First message of a connection; sent again with a fresh token to keep the socket open."""

    type: Literal["auth"]
    access_token: str = Field(min_length=1, max_length=4096)


class PingMessage(_Message):
    type: Literal["ping"]


class SignalMessage(_Message):
    """A call signalling message for the other party of an appointment; `payload` is opaque."""

    type: Literal["signal"]
    appointment_id: UUID
    kind: SignalKind
    payload: dict[str, Any] = Field(default_factory=dict)


ClientMessage = Annotated[AuthMessage | PingMessage | SignalMessage, Field(discriminator="type")]
client_message = TypeAdapter[AuthMessage | PingMessage | SignalMessage](ClientMessage)


class HelloEvent(BaseModel):
    type: Literal["hello"] = "hello"
    #: The head of the change log when the socket opened.
    cursor: int


class ChangesEvent(BaseModel):
    """Changes were committed up to `cursor`: pull (the hint carries no data)."""

    type: Literal["changes"] = "changes"
    cursor: int


class PresenceEvent(BaseModel):
    """The patient of `appointment_id` entered or left the waiting room at `at` (server time)."""

    type: Literal["presence"] = "presence"
    appointment_id: UUID
    state: PresenceState
    at: datetime
    #: How many of the appointment's people (the patient, a group's participants: one link
    #: each) are in the waiting room; "entered" again when it changes, 0 with "left".
    people: int = 1


class SignalEvent(BaseModel):
    """A relayed signalling message; `sender` is "desktop" (with its user) or "patient"."""

    type: Literal["signal"] = "signal"
    appointment_id: UUID
    kind: SignalKind
    payload: dict[str, Any]
    sender: Literal["desktop", "patient"]
    sender_user_id: UUID | None = None


class ErrorEvent(BaseModel):
    """A client message was refused; the connection stays open."""

    type: Literal["error"] = "error"
    code: str
    message: str
    #: The refused message's "type", when it had one.
    refused: str | None = None
