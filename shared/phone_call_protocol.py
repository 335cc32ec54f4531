"""The wire schema of a phone call the server dials for a desktop (docs/calls.md, "Phone calls").

The desktop sends its SDP offer; the server dials the patient's number through Janus's SIP
plugin and tells the desktop what happens as numbered events (long-polled), the SIP answer's
SDP with "connected". An attempt ends with one outcome, in words as well as the SIP code.
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

#: Largest SDP offer accepted (an aiortc audio offer with its candidates is ~2 kB).
MAX_SDP = 20_000
#: DTMF a keypad can send.
DTMF_DIGITS = "0123456789*#ABCD"


class PhoneOutcome(StrEnum):
    """How one dialling attempt ended."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"
    DECLINED = "declined"
    FAILED = "failed"
    #: The clinician hung up before the phone was answered.
    CANCELLED = "cancelled"

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS = {
    PhoneOutcome.ANSWERED: "answered",
    PhoneOutcome.BUSY: "busy",
    PhoneOutcome.NO_ANSWER: "no answer",
    PhoneOutcome.UNREACHABLE: "number unreachable",
    PhoneOutcome.DECLINED: "declined",
    PhoneOutcome.FAILED: "failed",
    PhoneOutcome.CANCELLED: "cancelled",
}


def outcome_of(sip_code: int) -> PhoneOutcome:
    """The outcome a final SIP answer to the INVITE means (RFC 3261 §21)."""
    if sip_code in (486, 600):
        return PhoneOutcome.BUSY
    if sip_code in (408, 480, 487):
        return PhoneOutcome.NO_ANSWER
    if sip_code in (603, 607, 608):
        return PhoneOutcome.DECLINED
    if sip_code in (404, 410, 484, 485, 604):
        return PhoneOutcome.UNREACHABLE
    return PhoneOutcome.FAILED


class PhoneDial(BaseModel):
    """Dial the appointment's patient: the desktop's audio offer (every candidate in it)."""

    sdp: str = Field(min_length=10, max_length=MAX_SDP)


class PhoneCallStarted(BaseModel):
    """The call is being dialled: poll its events by `call_id`."""

    call_id: UUID
    #: The number dialled, written for people (+44 1632 960961).
    number: str
    #: After this long ringing unanswered, the call ends as "no answer".
    ring_seconds: int


PhoneState = Literal["dialling", "ringing", "connected", "on_hold", "resumed", "dtmf", "ended"]


class PhoneEvent(BaseModel):
    """One step of the call, numbered from 1 in the order they happened."""

    seq: int
    state: PhoneState
    at: datetime
    #: "connected": Janus's SDP answer for the desktop's offer.
    sdp: str | None = None
    #: "ended": how, the SIP code when there was one, and the call's length once answered.
    outcome: PhoneOutcome | None = None
    sip_code: int | None = None
    duration_seconds: int | None = None
    #: A sentence for the call window (the outcome in words, or what failed).
    message: str = ""


class PhoneEvents(BaseModel):
    """Events after the `after` the desktop asked with (empty when the wait ran out)."""

    events: list[PhoneEvent]


class PhoneKeys(BaseModel):
    """DTMF digits to send (SIP INFO), e.g. "1" or "123#"."""

    digits: str = Field(min_length=1, max_length=32, pattern=r"^[0-9*#A-D]+$")


class PhoneHold(BaseModel):
    """Put the call on hold (true) or take it off (false)."""

    hold: bool


class PhoneAttemptPublic(BaseModel):
    """One dialling attempt kept on its appointment (synced as `phone_attempt`), from the
    dialling to its outcome: what a clerk reads to rebook ("No answer at 10:02")."""

    id: UUID
    appointment_id: UUID
    started_at: datetime
    answered_at: datetime | None = None
    #: None while the call is still on (dialling, ringing or connected).
    ended_at: datetime | None = None
    outcome: PhoneOutcome | None = None
    sip_code: int | None = None
    #: Seconds from the answer to the end (0 when never answered).
    duration_seconds: int = 0
    #: Who called: the user's id and their name as it was then.
    caller_id: UUID
    caller_name: str
    #: The number dialled, in E.164 (patient data: never logged).
    number: str
    #: 1 when dialled, one more for the answer and for the end.
    version: int
    updated_at: datetime
