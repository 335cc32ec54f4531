"""A phone call from the desktop: its audio to Janus's SIP plugin, dialled by the server.

The session makes an audio-only offer (every candidate in it: aiortc does not trickle), hands
it to the server through a PhoneLine, and follows the call's events: the SDP answer arrives
with "ringing" (early media) or "connected", "ended" says how it ended. Controls (keys, hold,
hang up) go to the server too; the media runs between this desktop and Janus.
"""

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from uuid import UUID

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from app.media.ice_config import IcePolicy, confined_to, host_addresses, rtc_configuration
from shared.phone_call_protocol import PhoneCallStarted, PhoneEvent

log = logging.getLogger("clinicdesk.media.phone")


class PhoneLine(ABC):
    """How a phone session reaches the server (the desktop's API client, or a test's)."""

    @abstractmethod
    async def dial(self, sdp: str) -> PhoneCallStarted:
        """Ring the appointment's patient with this offer; KnownError when refused."""

    @abstractmethod
    async def events(self, call_id: UUID, after: int) -> list[PhoneEvent]:
        """The call's events after `after` (a long poll: may return none)."""

    @abstractmethod
    async def hang_up(self, call_id: UUID) -> None: ...

    @abstractmethod
    async def keys(self, call_id: UUID, digits: str) -> None: ...

    @abstractmethod
    async def hold(self, call_id: UUID, hold: bool) -> None: ...


class PhoneListener:
    """What a phone session reports; called on the asyncio loop. All no-ops here."""

    def event(self, event: PhoneEvent) -> None:
        """A step of the call (dialling, ringing, connected, on hold, ended...)."""

    def remote_track(self, track: MediaStreamTrack) -> None:
        """The phone's audio."""

    def lost(self, message: str) -> None:
        """The server stopped answering about the call (it is hung up as far as we can)."""


class PhoneSession:
    """Dial, follow, steer and end one phone call."""

    def __init__(
        self,
        line: PhoneLine,
        listener: PhoneListener | None = None,
        *,
        audio: MediaStreamTrack | None = None,
        ice: IcePolicy | None = None,
    ) -> None:
        self.line = line
        self.listener = listener or PhoneListener()
        self.audio = audio
        self.ice = ice or IcePolicy()
        self.call: PhoneCallStarted | None = None
        self.last: PhoneEvent | None = None
        self._pc: RTCPeerConnection | None = None
        self._follower: asyncio.Task[None] | None = None
        self._answered_sdp = False

    @property
    def ended(self) -> bool:
        return self.last is not None and self.last.state == "ended"

    async def start(self) -> PhoneCallStarted:
        """Makes the offer and dials; raises what the line raises when the server refuses."""
        pc = self._pc = RTCPeerConnection(rtc_configuration(self.ice))

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self.listener.remote_track(track)

        if self.audio is not None:
            pc.addTrack(self.audio)
        else:
            pc.addTransceiver("audio", direction="recvonly")
        with confined_to(host_addresses(self.ice)):
            await pc.setLocalDescription(await pc.createOffer())
        try:
            self.call = await self.line.dial(pc.localDescription.sdp)
        except BaseException:
            await self._close_media()
            raise
        self._follower = asyncio.ensure_future(self._follow(self.call.call_id))
        return self.call

    async def _follow(self, call_id: UUID) -> None:
        after = 0
        failures = 0
        while not self.ended:
            try:
                events = await self.line.events(call_id, after)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the server or the network went away
                failures += 1
                log.warning("phone call events failed (%s): %s", failures, error)
                if failures >= 3:
                    await self._close_media()
                    self.listener.lost("The connection to the server was lost; the call ended.")
                    return
                await asyncio.sleep(1.0 * failures)
                continue
            for event in events:
                after = max(after, event.seq)
                await self._apply(event)

    async def _apply(self, event: PhoneEvent) -> None:
        if event.sdp and not self._answered_sdp and self._pc is not None:
            self._answered_sdp = True
            await self._pc.setRemoteDescription(RTCSessionDescription(event.sdp, "answer"))
        if event.state == "ended":
            await self._close_media()
        self.last = event
        self.listener.event(event)

    async def send_keys(self, digits: str) -> None:
        assert self.call is not None
        await self.line.keys(self.call.call_id, digits)

    async def set_hold(self, hold: bool) -> None:
        assert self.call is not None
        await self.line.hold(self.call.call_id, hold)

    async def hang_up(self) -> None:
        """Ends the call (or stops the ringing); the "ended" event follows."""
        if self.call is not None and not self.ended:
            await self.line.hang_up(self.call.call_id)

    async def close(self) -> None:
        """Hangs up if needed and lets everything go."""
        with contextlib.suppress(Exception):
            await self.hang_up()
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        await self._close_media()

    async def _close_media(self) -> None:
        if self._pc is not None:
            pc, self._pc = self._pc, None
            await pc.close()
