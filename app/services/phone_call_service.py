"""The phone call as the UI sees it: a QObject over app.media's PhoneSession.

It opens the microphone the 1:1 calls remember (through the CallService), plays the phone's
audio on the remembered speaker, turns the call's events into Qt signals (the state, the running
timer, the outcome in words) and offers the window's controls: mute, hold, keys, hang up.
One phone call at a time.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import shiboken6
from aiortc import MediaStreamTrack
from PySide6.QtCore import QObject, QTimer, Signal

from app.media.audio_output import PcmPump
from app.media.capture import LocalMedia
from app.media.phone_session import PhoneLine, PhoneListener, PhoneSession
from app.services.call_audio_output import AudioOutput
from app.services.call_service import CallService
from shared.errors import KnownError
from shared.phone_call_protocol import PhoneEvent, PhoneOutcome

log = logging.getLogger("clinicdesk.media.phone")

#: What the window shows for each step of the call (the server's "resumed" is connected again).
STATE_WORDS = {
    "dialling": "Dialling…",
    "ringing": "Ringing…",
    "connected": "Connected",
    "on_hold": "On hold",
    "ended": "Call ended",
}
BUSY_ELSEWHERE = "A call is already in progress: hang up before starting another."


def minutes(seconds: float) -> str:
    """A call's length as the timer shows it: 0:07, 12:34, 1:02:03."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    text = f"{rest // 60}:{rest % 60:02d}"
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else text


def heading(event: PhoneEvent, hung_up_here: bool) -> str:
    """The window's first line once the call ended: the outcome in words."""
    outcome = event.outcome or PhoneOutcome.FAILED
    if outcome is PhoneOutcome.ANSWERED:
        return "You hung up" if hung_up_here else "The patient hung up"
    return outcome.words[:1].upper() + outcome.words[1:]


class _Forward(PhoneListener):
    """The session's listener; silent once the service's C++ object is gone (app shutdown)."""

    def __init__(self, service: "PhoneCallService") -> None:
        self._service = service

    def event(self, event: PhoneEvent) -> None:
        if shiboken6.isValid(self._service):
            self._service._on_event(event)

    def remote_track(self, track: MediaStreamTrack) -> None:
        if shiboken6.isValid(self._service):
            self._service._pump.attach(track)

    def lost(self, message: str) -> None:
        if shiboken6.isValid(self._service):
            self._service._on_lost(message)


class PhoneCallService(QObject):
    """Dial, steer and end the one phone call of this desktop."""

    #: "dialling", "ringing", "connected", "on_hold" or "ended" (STATE_WORDS says them).
    stateChanged = Signal(str)
    #: The connected call's length, once a second ("0:07").
    timerTicked = Signal(str)
    #: The call is over: (the outcome in words, the server's sentence about it).
    ended = Signal(str, str)
    mutedChanged = Signal(bool)
    #: A control the server refused (keys, hold) or a step to tell: said in the window.
    notice = Signal(str)

    def __init__(self, calls: CallService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.calls = calls
        self.session: PhoneSession | None = None
        self.media: LocalMedia | None = None
        self.state = ""
        self.number = ""
        #: How long the phone rings unanswered before the call ends as "no answer".
        self.ring_seconds = 0
        self.connected_at: float | None = None
        self.last: PhoneEvent | None = None
        self.held = False
        self._hung_up_here = False
        self._pump = PcmPump(self._play)
        self.audio_output = AudioOutput(self)
        #: Also given the phone's audio as it is played (the bench's ear); None: nobody.
        self.tap: Callable[[bytes], None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._tasks: set[asyncio.Future[None]] = set()
        self._keys_in_order = asyncio.Lock()

    @property
    def in_call(self) -> bool:
        return self.session is not None

    @property
    def muted(self) -> bool:
        return self.media is not None and self.media.muted

    async def dial(self, line: PhoneLine) -> None:
        """Opens the microphone and dials through `line`; KnownError with the server's sentence
        (or the microphone's) when the call cannot be placed, everything let go again."""
        if self.in_call or self.calls.in_call:
            raise KnownError(BUSY_ELSEWHERE)
        self.connected_at, self.last, self.held = None, None, False
        self._hung_up_here = False
        self._set_state("dialling")
        media = self.media = await self.calls.open_local_media(audio_only=True)
        session = self.session = PhoneSession(
            line, _Forward(self), audio=media.outgoing_audio, ice=self.calls.config.options.ice
        )
        try:
            started = await session.start()
        except BaseException:
            await self._release()
            raise
        self.number, self.ring_seconds = started.number, started.ring_seconds
        self.audio_output.start(self.calls.remembered("speaker"))
        self.mutedChanged.emit(media.muted)

    def set_muted(self, muted: bool) -> None:
        """The microphone sends silence (the phone hears nothing) or sound again."""
        if self.media is not None and self.media.muted != muted:
            self.media.set_muted(muted)
            self.mutedChanged.emit(muted)

    async def set_hold(self, hold: bool) -> None:
        if self.session is None:
            return
        try:
            await self.session.set_hold(hold)
        except KnownError as error:
            self.notice.emit(str(error))
            self.stateChanged.emit(self.state)  # the hold button shows the call as it is

    async def send_keys(self, digits: str) -> None:
        """Sends DTMF; keys pressed quickly go one request after another, in the order pressed."""
        async with self._keys_in_order:
            if self.session is None:
                return
            try:
                await self.session.send_keys(digits)
            except KnownError as error:
                self.notice.emit(str(error))

    async def hang_up(self) -> None:
        """Ends the call (or stops the ringing): the "ended" event follows from the server."""
        if self.session is None:
            return
        self._hung_up_here = True
        try:
            await self.session.hang_up()
        except KnownError as error:
            # The server did not take it: end here anyway (it hangs up a silent desktop's call).
            log.warning("phone hang-up refused: %s", error)
            await self._release()
            self._set_state("ended")
            self.ended.emit("Call ended", str(error))

    def close(self) -> None:
        """The application is quitting: hang up without waiting."""
        if self.session is not None:
            with contextlib.suppress(RuntimeError):
                asyncio.ensure_future(self._release())

    # -- from the session ----------------------------------------------------------------------

    def _on_event(self, event: PhoneEvent) -> None:
        self.last = event
        if event.state == "connected" and self.connected_at is None:
            self.connected_at = time.monotonic()
            self._timer.start()
            self._tick()
        if event.state in ("dialling", "ringing", "connected"):
            self._set_state(event.state)
        elif event.state == "on_hold":
            self.held = True
            self._set_state("on_hold")
        elif event.state == "resumed":
            self.held = False
            self._set_state("connected")
        elif event.state == "ended":
            self._run(self._end(event))

    async def _end(self, event: PhoneEvent) -> None:
        await self._release()
        self._set_state("ended")
        self.ended.emit(heading(event, self._hung_up_here), event.message)

    def _on_lost(self, message: str) -> None:
        async def lost() -> None:
            await self._release()
            self._set_state("ended")
            self.ended.emit("Call ended", message)

        self._run(lost())

    def _tick(self) -> None:
        if self.connected_at is not None:
            self.timerTicked.emit(minutes(time.monotonic() - self.connected_at))

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _play(self, pcm: bytes) -> None:
        self.audio_output.write(pcm)
        if self.tap is not None:
            self.tap(pcm)

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self) -> None:
        self._timer.stop()
        self._pump.detach()
        self.audio_output.stop()
        session, self.session = self.session, None
        if session is not None:
            await session.close()
        if self.media is not None:
            self.media.close()
            self.media = None
