"""Phone calls the server dials for desktops: who is calling what, the steps of each call as
numbered events the desktop long-polls, and how each attempt ended (docs/calls.md).

Each call lives in this process (like the video calls' owners): the desktop that dialled holds
it, a second clinician dialling the same appointment is refused with who is calling, and a
desktop that stops asking for events for PHONE_DESKTOP_GONE_SECONDS is hung up for.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from server.janus.client import JanusError, JanusUnreachable
from server.janus.sip_call import SipCall
from shared.clock import Clock
from shared.phone_call_protocol import PhoneEvent, PhoneOutcome, PhoneState, outcome_of

log = logging.getLogger("clinicdesk.server.phone")

#: A desktop that has not asked for its call's events this long is gone: the call is hung up.
PHONE_DESKTOP_GONE_SECONDS = 45.0
_WATCH_SECONDS = 5.0


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass
class PhoneCall:
    """One attempt to reach the patient's phone, and its events."""

    id: UUID
    appointment_id: UUID
    user_id: UUID
    number: str
    started_at: datetime
    ring_seconds: int
    clock: Clock
    on_answered: Callable[["PhoneCall"], None]
    on_ended: Callable[["PhoneCall"], None]
    events: list[PhoneEvent] = field(default_factory=list)
    answered_at: datetime | None = None
    outcome: PhoneOutcome | None = None
    sip_code: int | None = None
    message: str = ""
    duration_seconds: int = 0
    _sip: SipCall | None = None
    _sdp_sent: bool = False
    _why_hung_up: PhoneOutcome | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _last_heard: float = 0.0
    _timers: list[threading.Timer] = field(default_factory=list)

    # --- what the desktop does -------------------------------------------------------------

    def wait_events(self, after: int, seconds: float) -> list[PhoneEvent]:
        """Events numbered above `after`, waiting up to `seconds` for one."""
        with self._changed:
            self._last_heard = self._monotonic()
            self._changed.wait_for(lambda: len(self.events) > after, timeout=seconds)
            self._last_heard = self._monotonic()
            return list(self.events[after:])

    def hang_up(self) -> None:
        """The clinician hangs up (or cancels a call still ringing)."""
        self._end_by_us(PhoneOutcome.CANCELLED)

    def abandon(self, message: str) -> None:
        """The server's side of the call dies (the server stops): the phone is hung up if it
        can be, and the call ends as failed at once."""
        with self._changed:
            if self.outcome is not None:
                return
            self._why_hung_up = PhoneOutcome.FAILED
        try:
            self.send({"request": "hangup"})
        except (JanusUnreachable, JanusError) as error:
            log.warning("phone call %s: hangup not sent: %s", self.id, error)
        self._finish(PhoneOutcome.FAILED, None, message)

    def send(self, body: dict[str, object]) -> None:
        """A request to the call (DTMF, hold); JanusUnreachable / JanusError when refused."""
        if self._sip is None or self.outcome is not None:
            raise JanusUnreachable("the call is over")
        self._sip.send(body)

    @property
    def over(self) -> bool:
        return self.outcome is not None

    # --- what the SIP side does ------------------------------------------------------------

    def begin(self, sip: SipCall) -> None:
        self._sip = sip
        self._last_heard = self._monotonic()
        self._emit("dialling", message=f"Dialling {self.number}…")
        self._after(float(self.ring_seconds), self._ring_timeout)
        self._after(_WATCH_SECONDS, self._watch)
        sip.start()

    def sip_event(
        self, name: str, result: dict[str, object], jsep: dict[str, object] | None
    ) -> None:
        sdp = self._answer_sdp(jsep)
        if name in ("ringing", "proceeding", "progress") and self.answered_at is None:
            if name != "proceeding" or sdp:
                self._emit("ringing", sdp=sdp, message="Ringing…")
        elif name == "accepted":
            self.answered_at = self.clock.now()
            self._cancel_timers(keep_watch=True)
            self._emit("connected", sdp=sdp, message="Connected")
            try:
                self.on_answered(self)
            except Exception:
                log.exception("phone call %s: marking the appointment taken failed", self.id)
        elif name == "holding":
            self._emit("on_hold", message="On hold")
        elif name == "resuming":
            self._emit("resumed", message="Connected")
        elif name == "hangup":
            code = result.get("code")
            reason = str(result.get("reason", ""))
            self._ended(int(code) if isinstance(code, int) else None, reason)
        elif name == "error":
            log.warning("phone call %s: the SIP plugin said %s", self.id, result)
            if self.answered_at is None:
                self.sip_failed(f"The phone service refused the call: {result.get('error', '')}.")
        elif name == "webrtc_down" and not self.over:
            self._end_by_us(PhoneOutcome.FAILED)

    def sip_failed(self, message: str) -> None:
        """The call could not be placed (Janus down, the line refused)."""
        with self._changed:
            if self.outcome is not None:
                return
        self._finish(PhoneOutcome.FAILED, None, message)

    # --- inside ----------------------------------------------------------------------------

    def _answer_sdp(self, jsep: dict[str, object] | None) -> str | None:
        if jsep is None or self._sdp_sent or jsep.get("type") != "answer":
            return None
        self._sdp_sent = True
        return str(jsep.get("sdp", ""))

    def _ended(self, code: int | None, reason: str) -> None:
        if self.answered_at is not None:
            outcome = PhoneOutcome.ANSWERED
        elif self._why_hung_up is not None:
            outcome = self._why_hung_up
        else:
            outcome = outcome_of(code) if code is not None else PhoneOutcome.FAILED
        self._finish(outcome, code, self._words(outcome, code, reason))

    def _words(self, outcome: PhoneOutcome, code: int | None, reason: str) -> str:
        said = f" ({code} {reason})".rstrip() if code else ""
        if outcome is PhoneOutcome.ANSWERED:
            assert self.answered_at is not None
            length = int((self.clock.now() - self.answered_at).total_seconds())
            return f"Call ended after {_minutes(max(length, 0))}."
        return {
            PhoneOutcome.BUSY: "Busy: the patient's line is engaged.",
            PhoneOutcome.NO_ANSWER: f"No answer after {self.ring_seconds} seconds of ringing.",
            PhoneOutcome.UNREACHABLE: f"The number cannot be reached{said}.",
            PhoneOutcome.DECLINED: "The patient declined the call.",
            PhoneOutcome.CANCELLED: "You hung up before the phone was answered.",
            PhoneOutcome.FAILED: f"The call failed{said}.",
        }[outcome]

    def _finish(self, outcome: PhoneOutcome, code: int | None, message: str) -> None:
        with self._changed:
            if self.outcome is not None:
                return
            self.outcome, self.sip_code, self.message = outcome, code, message
            if self.answered_at is not None:
                seconds = (self.clock.now() - self.answered_at).total_seconds()
                self.duration_seconds = max(int(seconds), 0)
        self._cancel_timers()
        if self._sip is not None:
            self._sip.finish()
        self._emit("ended", outcome=outcome, sip_code=code, message=message,
                   duration_seconds=self.duration_seconds)
        try:
            self.on_ended(self)
        except Exception:
            log.exception("phone call %s: recording the attempt failed", self.id)

    def _end_by_us(self, why: PhoneOutcome) -> None:
        with self._changed:
            if self.outcome is not None:
                return
            if self._why_hung_up is None:
                self._why_hung_up = why
        try:
            self.send({"request": "hangup"})
        except (JanusUnreachable, JanusError) as error:
            log.warning("phone call %s: hangup not sent: %s", self.id, error)
            self._finish(why, None, self._words(why, None, ""))

    def _ring_timeout(self) -> None:
        if self.answered_at is None:
            self._end_by_us(PhoneOutcome.NO_ANSWER)

    def _watch(self) -> None:
        if self.over:
            return
        if self._monotonic() - self._last_heard > PHONE_DESKTOP_GONE_SECONDS:
            log.warning("phone call %s: the desktop stopped asking; hanging up", self.id)
            self._end_by_us(PhoneOutcome.FAILED)
            return
        self._after(_WATCH_SECONDS, self._watch)

    def _after(self, seconds: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        with self._changed:
            self._timers.append(timer)
        timer.start()

    def _cancel_timers(self, keep_watch: bool = False) -> None:
        with self._changed:
            timers, self._timers = self._timers, []
        for timer in timers:
            if keep_watch and getattr(timer, "function", None) == self._watch:
                with self._changed:
                    self._timers.append(timer)
                continue
            timer.cancel()

    def _emit(self, state: PhoneState, **values: object) -> None:
        with self._changed:
            event = PhoneEvent(seq=len(self.events) + 1, state=state, at=self.clock.now(),
                               **values)  # type: ignore[arg-type]
            self.events.append(event)
            self._changed.notify_all()

    @staticmethod
    def _monotonic() -> float:
        return time.monotonic()


class PhoneCalls:
    """The calls of this server process, by id; one per appointment at a time."""

    def __init__(self) -> None:
        self._calls: dict[UUID, PhoneCall] = {}
        self._lock = threading.Lock()

    def claim(self, call: PhoneCall) -> UUID | None:
        """Keeps `call`; the user already calling its appointment instead, when there is one."""
        with self._lock:
            for other in self._calls.values():
                if other.appointment_id == call.appointment_id and not other.over:
                    return other.user_id
            self._calls = {key: kept for key, kept in self._calls.items() if not kept.over}
            self._calls[call.id] = call
            return None

    def get(self, call_id: UUID) -> PhoneCall | None:
        with self._lock:
            return self._calls.get(call_id)

    def active(self) -> list[PhoneCall]:
        with self._lock:
            return [call for call in self._calls.values() if not call.over]

    def hang_up_all(self) -> None:
        """The server stops: every call still on is hung up, and ends as failed."""
        for call in self.active():
            call.abandon("The call was cut off: the server stopped.")

    def release(self, call: PhoneCall) -> None:
        """Forget a call that never started (its dialling was refused after the claim)."""
        with self._lock:
            self._calls.pop(call.id, None)

    @staticmethod
    def new_id() -> UUID:
        return uuid4()
