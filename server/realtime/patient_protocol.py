"""The patient page's WebSocket messages (browser <-> server); see docs/invites.md.

The page sends auth (the link's token) first, then pong, ping and signal messages; the server
sends hello, ping, pong, message (from the clinician), signal (relayed from the desktop),
admission (a group call let someone in), cancelled and error messages, and closes with the
CLOSE_* codes below.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from server.security.link_tokens import MAX_TOKEN_LENGTH
from shared.realtime_protocol import SignalKind

#: Close codes of the patient socket. 4404: the link is not known. 4410: the link has expired.
#: 4412: the appointment was cancelled. 4408: no auth, or no heartbeat, in time.
#: 4429: too many wrong links from this address.
CLOSE_UNKNOWN_LINK = 4404
CLOSE_LINK_EXPIRED = 4410
CLOSE_CANCELLED = 4412
CLOSE_TIMEOUT = 4408
CLOSE_RATE_LIMITED = 4429
#: The longest message a clinician may send to the waiting patient.
MAX_WAITING_MESSAGE = 280
#: What a page may send: it answers the desktop's call and hangs up, but never starts (offers)
#: one, so a link holder cannot ring every desktop that sees the appointment.
PAGE_SIGNAL_KINDS = frozenset({SignalKind.ANSWER, SignalKind.CANDIDATE, SignalKind.HANGUP})


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientAuth(_Message):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class PatientPing(_Message):
    type: Literal["ping"]


class PatientPong(_Message):
    type: Literal["pong"]


class PatientSignal(_Message):
    """The page's answer, ICE candidate or hangup for its appointment's call."""

    type: Literal["signal"]
    kind: SignalKind
    payload: dict[str, Any] = Field(default_factory=dict)


PatientMessage = Annotated[
    PatientAuth | PatientPing | PatientPong | PatientSignal, Field(discriminator="type")
]
patient_message = TypeAdapter[PatientAuth | PatientPing | PatientPong | PatientSignal](
    PatientMessage
)


class PatientHello(BaseModel):
    type: Literal["hello"] = "hello"
    #: Seconds the patient has been in the waiting room (across reloads), server time.
    waited_seconds: int
    #: The server pings this often; the page answers each ping with a pong.
    heartbeat_seconds: float
    #: Seconds until the clinic sees the patient as waiting (the appointment's start less the
    #: waiting window, server time); 0 once it does. Until then the page says when the call comes.
    early_seconds: int = 0
    #: The server's time (the page's own clock may be wrong): "today" is the clinic's today.
    now: datetime | None = None


class WaitingMessage(BaseModel):
    """A short message from the clinician ("Running 10 minutes late")."""

    type: Literal["message"] = "message"
    text: str
    at: datetime


class CancelledEvent(BaseModel):
    type: Literal["cancelled"] = "cancelled"
    message: str


class AdmissionEvent(BaseModel):
    """The clinician admitted someone to the group call: a waiting page asks for its credential
    again (no names: which page was let in is the server's answer to that page alone)."""

    type: Literal["admission"] = "admission"
