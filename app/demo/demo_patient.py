"""One simulated patient: enters the waiting room over the patient socket, answers the call
with the name card and the voice, and leaves when the call ends (as the page does) or when the
demo's plan says so."""

import asyncio
import contextlib
import logging

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from app.demo.patient_socket import PatientSocketSignalling, token_of
from app.demo.synthetic_media import NameCardTrack, VoiceToneTrack
from app.media.call_listener import CallListener
from app.media.call_options import CallOptions
from app.media.call_session import CallRole, CallSession
from app.media.call_state import CallState, EndReason
from app.media.ice_config import IcePolicy
from shared.demo_people import DemoArrival

log = logging.getLogger("clinicdesk.demo")


class _Listener(CallListener):
    """Reads what the desktop sends (unread frames would pile up) and notes the call's end."""

    def __init__(self) -> None:
        self.frames_received = 0
        self.ended = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []

    def state_changed(self, state: CallState, reason: EndReason | None) -> None:
        if state is CallState.ENDED:
            self.ended.set()

    def remote_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.ensure_future(self._drain(track)))

    async def _drain(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames_received += 1

    def stop(self) -> None:
        for reader in self._readers:
            reader.cancel()


class DemoPatient:
    """Runs one patient's visit on the asyncio loop (`visit`)."""

    def __init__(self, server_url: str, plan: DemoArrival,
                 ice: IcePolicy | None = None) -> None:
        self.server_url = server_url
        self.plan = plan
        # The demo runs on this computer: its calls stay on the loopback interface.
        self.options = CallOptions(ice=ice or IcePolicy.loopback())
        self.listener = _Listener()
        self.in_call = False

    async def visit(self, started: float) -> None:
        """Wait for the planned moment, enter, answer one call (or give up), leave."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, started + self.plan.enter_after - loop.time()))
        signalling = PatientSocketSignalling(self.server_url, token_of(self.plan.link))
        await signalling.enter()
        log.info("%s entered the waiting room", self.plan.name)
        try:
            leave = self.plan.leave_after
            patience = None if leave is None else max(0.0, started + leave - loop.time())
            try:
                called = await asyncio.wait_for(signalling.wait_for_offer(), patience)
            except TimeoutError:
                called = False  # waited long enough: the tab is closed
            if called:
                await self._answer(signalling)
        finally:
            await signalling.close()
            log.info("%s left the waiting room", self.plan.name)

    async def _answer(self, signalling: PatientSocketSignalling) -> None:
        # The session starts with the offer in hand: a callee session gives up after
        # connect_timeout, and a patient may wait far longer than that to be called.
        video, audio = NameCardTrack(self.plan.name), VoiceToneTrack()
        session = CallSession(signalling, self.options, self.listener, role=CallRole.CALLEE,
                              audio=audio, video=video)
        self.in_call = True
        try:
            await session.start()
            await session.wait_ended()
        finally:
            self.in_call = False
            if session.state not in (CallState.ENDED, CallState.IDLE):
                await session.hang_up()
            self.listener.stop()
            video.stop()
            audio.stop()
