"""One 1:1 call: an aiortc RTCPeerConnection, its tracks and chat channel, reconnection and stats.

The caller (the desktop) sends an offer; the callee (the patient's browser, or a test peer)
answers. aiortc cannot restart ICE on a live peer connection, so an "ICE restart" here is a fresh
peer connection with a fresh offer (`restart: true`, a higher `generation`) over the same
signalling: the far side replaces its peer connection when it sees it. The local tracks outlive
the peer connections (they are SwitchableTracks owned by the capture), so nothing is re-opened.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

from app.media.call_listener import CallListener
from app.media.call_options import CallOptions
from app.media.call_path import call_path
from app.media.call_state import ALLOWED, CallState, EndReason
from app.media.ice_config import (
    IcePolicy,
    confined_to,
    host_addresses,
    offer_ice,
    rtc_configuration,
)
from app.media.relay_probe import NoRelayPath, RelayRoute, relayed_policy
from app.media.signalling import IncomingSignal, Signalling, SignallingError
from app.media.stats import QualityMeter
from app.media.tracks import ForwardingTrack
from shared.errors import KnownError
from shared.realtime_protocol import SignalKind

log = logging.getLogger("clinicdesk.media")

CHAT_LABEL = "chat"


#: Asks the server again for the call's STUN/TURN servers: TURN credentials minted now, for a
#: reconnection (the call's first ones may have expired, and coturn refuses expired ones).
IceRenewal = Callable[[], Awaitable[IcePolicy]]


def relay_failure(error: NoRelayPath) -> EndReason:
    """The call's end, in words for the clinician, when the relay could not carry it."""
    return EndReason.RELAY_REFUSED if error.refused else EndReason.RELAY_UNREACHABLE


class CallRole(StrEnum):
    CALLER = "caller"
    CALLEE = "callee"


class CallSession:
    """Create, run and end one call; report through a CallListener."""

    def __init__(
        self,
        signalling: Signalling,
        options: CallOptions | None = None,
        listener: CallListener | None = None,
        *,
        role: CallRole = CallRole.CALLER,
        audio: MediaStreamTrack | None = None,
        video: MediaStreamTrack | None = None,
        renew_ice: IceRenewal | None = None,
    ) -> None:
        self.signalling = signalling
        self.options = options or CallOptions()
        self.listener = listener or CallListener()
        self.role = role
        self.audio = audio
        self.video = None if self.options.audio_only else video
        self.state = CallState.IDLE
        self.end_reason: EndReason | None = None
        self.pc: RTCPeerConnection | None = None
        self.generation = 0
        #: Every session description this side set, local and remote (tests check them).
        self.local_sdps: list[str] = []
        self.remote_sdps: list[str] = []
        self._channel: RTCDataChannel | None = None
        #: Trickled candidates that came before the description they belong to.
        self._early_candidates: list[dict[str, Any]] = []
        self._connected = asyncio.Event()
        self._ended = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._meter = QualityMeter()
        self._last_packets_at = time.monotonic()
        self._reconnecting: asyncio.Task[None] | None = None
        #: The TURN route the current peer connection uses (None: no relay).
        self.relay: RelayRoute | None = None
        self._renew_ice = renew_ice
        #: How many times the call's ICE servers were renewed (fresh TURN credentials).
        self.renewals = 0
        #: The current peer connection's credentials came from a renewal (not the first ones).
        self._renewed = False
        self._addresses = host_addresses(self.options.ice)
        if self._addresses == []:
            log.warning("none of the call network interfaces %s has an address: only a TURN "
                        "relay can carry this call", ", ".join(self.options.ice.interfaces))

    # -- the API -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Begin: the caller sends its offer; the callee waits for one. Returns at once."""
        if self.state is not CallState.IDLE:
            raise RuntimeError(f"a call in state {self.state} cannot start")
        self._set_state(CallState.CONNECTING)
        self._spawn(self._receive_loop())
        self._spawn(self._stats_loop())
        self._spawn(self._connect_deadline())
        if self.role is CallRole.CALLER:
            try:
                await self._send_offer(restart=False)
            except NoRelayPath as error:
                await self._end(relay_failure(error), tell_peer=True)
            except (SignallingError, OSError) as error:
                log.warning("the offer could not be sent: %s", error)
                await self._end(EndReason.NOT_CONNECTED, tell_peer=False)

    async def hang_up(self) -> None:
        """End the call from this side and tell the other party."""
        await self._end(EndReason.HUNG_UP, tell_peer=True)

    async def wait_ended(self) -> EndReason:
        await self._ended.wait()
        assert self.end_reason is not None
        return self.end_reason

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def send_chat(self, text: str) -> bool:
        """Send a chat message over the data channel; False if it is not open (reconnecting)."""
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return False
        channel.send(text)
        return True

    async def restart_ice(self) -> None:
        """Try to restore the connection now (the caller re-offers; the callee waits)."""
        if self.state in (CallState.CONNECTED, CallState.CONNECTING):
            self._begin_reconnecting("asked to restart")

    # -- peer connections ----------------------------------------------------------------------

    async def _ice_for_next_connection(self, renew: bool = False) -> IcePolicy:
        """The ICE policy of the next peer connection: through the first TURN path that works.

        Probed again for every connection: a reconnection may follow a change of network. A
        reconnection (`renew`) first asks for fresh credentials: the first ones may have expired.
        Raises NoRelayPath when the call must be relayed and no path works.
        """
        self._renewed = renew and await self._renew_credentials()
        self.relay = None
        policy, self.relay = await relayed_policy(self.options.ice,
                                                  self.options.relay_probe_timeout)
        return policy

    async def _renew_credentials(self) -> bool:
        """The call's servers with freshly minted TURN credentials; False: kept the old ones."""
        if self._renew_ice is None:
            return False
        try:
            fresh = await asyncio.wait_for(self._renew_ice(), self.options.attempt_timeout)
        except (KnownError, OSError, TimeoutError) as error:
            # Offline or slow: the old credentials may still be good; the probe will tell.
            log.warning("no fresh TURN credentials for the reconnection (%s)",
                        type(error).__name__)
            return False
        current = self.options.ice
        relay_only = current.relay_only or fresh.relay_only  # a renewal never loosens the rule
        self.options = replace(self.options, ice=replace(
            fresh, interfaces=current.interfaces, relay_only=relay_only))
        self.renewals += 1
        return True

    def _new_peer_connection(self, ice: IcePolicy) -> RTCPeerConnection:
        pc = RTCPeerConnection(rtc_configuration(ice))
        self.generation += 1 if self.role is CallRole.CALLER else 0
        self._meter.reset()
        self._last_packets_at = time.monotonic()

        @pc.on("connectionstatechange")
        def on_connection_state() -> None:
            self._on_connection_state(pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if pc is self.pc:
                self.listener.remote_track(track)

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if pc is self.pc and channel.label == CHAT_LABEL:
                self._use_channel(channel)

        return pc

    def _use_channel(self, channel: RTCDataChannel) -> None:
        self._channel = channel

        @channel.on("message")
        def on_message(message: str | bytes) -> None:
            if channel is self._channel and isinstance(message, str):
                self.listener.chat_received(message)

    async def _replace_peer_connection(self, renew: bool = False) -> RTCPeerConnection:
        old, self.pc = self.pc, None
        self._channel = None
        self._early_candidates = []
        if old is not None:
            await old.close()
        self.pc = self._new_peer_connection(await self._ice_for_next_connection(renew))
        return self.pc

    async def _set_local(self, pc: RTCPeerConnection, description: RTCSessionDescription) -> None:
        # Gathering happens here; confine the host candidates to the allowed interfaces.
        with confined_to(self._addresses):
            await pc.setLocalDescription(description)
        self.local_sdps.append(pc.localDescription.sdp)

    async def _send_offer(self, restart: bool) -> None:
        pc = await self._replace_peer_connection(renew=restart)
        if self.audio is not None:
            pc.addTransceiver(ForwardingTrack(self.audio), direction="sendrecv")
        else:
            pc.addTransceiver("audio", direction="recvonly")
        if not self.options.audio_only:
            if self.video is not None:
                pc.addTransceiver(ForwardingTrack(self.video), direction="sendrecv")
            else:
                pc.addTransceiver("video", direction="recvonly")
        self._use_channel(pc.createDataChannel(CHAT_LABEL))
        await self._set_local(pc, await pc.createOffer())
        if pc is not self.pc:
            return
        offer: dict[str, object] = {
            "type": "offer", "sdp": pc.localDescription.sdp, "generation": self.generation,
            "restart": restart,
        }
        # The page uses the same STUN/TURN servers (RTCIceServer's JSON) and policy.
        offer.update(offer_ice(self.options.ice))
        await self.signalling.send(SignalKind.OFFER, offer)

    async def _answer(self, payload: dict[str, Any]) -> None:
        generation = int(payload.get("generation", self.generation + 1))
        if self.pc is not None and generation <= self.generation:
            log.info("ignored an old offer (generation %s)", generation)
            return
        self.generation = generation
        try:
            pc = await self._replace_peer_connection()
        except NoRelayPath as error:
            await self._end(relay_failure(error), tell_peer=True)
            return
        offer = RTCSessionDescription(sdp=str(payload["sdp"]), type="offer")
        self.remote_sdps.append(offer.sdp)
        await pc.setRemoteDescription(offer)
        await self._add_early_candidates()
        offered = {transceiver.kind for transceiver in pc.getTransceivers()}
        for track in (self.audio, self.video):
            if track is not None and track.kind in offered:
                pc.addTrack(ForwardingTrack(track))
        await self._set_local(pc, await pc.createAnswer())
        if pc is not self.pc:
            return
        await self.signalling.send(
            SignalKind.ANSWER,
            {"type": "answer", "sdp": pc.localDescription.sdp, "generation": self.generation},
        )

    async def _accept_answer(self, payload: dict[str, Any]) -> None:
        pc = self.pc
        generation = int(payload.get("generation", self.generation))
        if pc is None or generation != self.generation or pc.signalingState != "have-local-offer":
            log.info("ignored an answer for generation %s", generation)
            return
        answer = RTCSessionDescription(sdp=str(payload["sdp"]), type="answer")
        self.remote_sdps.append(answer.sdp)
        await pc.setRemoteDescription(answer)
        await self._add_early_candidates()

    async def _add_early_candidates(self) -> None:
        early, self._early_candidates = self._early_candidates, []
        for payload in early:
            await self._add_candidate(payload)

    async def _add_candidate(self, payload: dict[str, Any]) -> None:
        """A trickled candidate from a browser (aiortc itself never trickles)."""
        pc = self.pc
        if pc is None or pc.remoteDescription is None:
            # The hub keeps order, but a browser may trickle before our answer is applied.
            self._early_candidates.append(payload)
            return
        text = str(payload.get("candidate") or "")
        if not text:
            await pc.addIceCandidate(None)  # end of candidates
            return
        candidate = candidate_from_sdp(text.removeprefix("candidate:"))
        candidate.sdpMid = payload.get("sdpMid")
        index = payload.get("sdpMLineIndex")
        candidate.sdpMLineIndex = int(index) if index is not None else None
        await pc.addIceCandidate(candidate)

    # -- state ---------------------------------------------------------------------------------

    def _set_state(self, state: CallState) -> None:
        if state is self.state:
            return
        if state not in ALLOWED[self.state]:
            raise RuntimeError(f"a call cannot go from {self.state} to {state}")
        log.info("call %s -> %s", self.state.value, state.value)
        self.state = state
        if state is CallState.CONNECTED:
            self._connected.set()
        else:
            self._connected.clear()
        self.listener.state_changed(state, self.end_reason)

    def _on_connection_state(self, pc: RTCPeerConnection) -> None:
        if pc is not self.pc or self.state is CallState.ENDED:
            return
        state = pc.connectionState
        if state == "connected":
            self._last_packets_at = time.monotonic()
            if self.state in (CallState.CONNECTING, CallState.RECONNECTING):
                self._set_state(CallState.CONNECTED)
        elif state in ("failed", "closed") and self.state is CallState.CONNECTED:
            self._begin_reconnecting(f"peer connection {state}")

    def _begin_reconnecting(self, why: str) -> None:
        if self.state is CallState.ENDED or self._reconnecting is not None:
            return
        log.warning("call connection lost (%s); reconnecting", why)
        if self.state is CallState.CONNECTED:
            self._set_state(CallState.RECONNECTING)
        self._reconnecting = self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        deadline = time.monotonic() + self.options.reconnect_timeout
        #: Why the last attempt could not use the relay (None: it could, or no relay is needed).
        relay_trouble: EndReason | None = None
        try:
            while self.state is not CallState.ENDED:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if self.role is CallRole.CALLER:
                    relay_trouble = None
                    try:
                        await self._send_offer(restart=True)
                    except NoRelayPath as error:
                        relay_trouble = relay_failure(error)
                        log.warning("no relay for a reconnection: %s", relay_trouble.name)
                        if error.refused and self._renewed:
                            # Credentials minted just now and still refused: coturn and the
                            # server disagree on the secret. Trying again cannot help.
                            break
                    except (SignallingError, OSError) as error:
                        log.warning("a reconnection offer could not be sent: %s", error)
                wait = remaining if self.role is CallRole.CALLEE else min(
                    remaining, self.options.attempt_timeout)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._connected.wait(), wait)
                    return
        finally:
            self._reconnecting = None
        await self._end(relay_trouble or EndReason.CONNECTION_LOST, tell_peer=True)

    async def _end(self, reason: EndReason, tell_peer: bool) -> None:
        if self.state is CallState.ENDED:
            return
        self.end_reason = reason
        if tell_peer:
            with contextlib.suppress(SignallingError, OSError):
                await self.signalling.send(SignalKind.HANGUP, {"reason": reason.name.lower()})
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        pc, self.pc = self.pc, None
        self._channel = None
        if pc is not None:
            await pc.close()
        self._set_state(CallState.ENDED)
        self._ended.set()

    # -- background tasks ----------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> "asyncio.Task[None]":
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call task failed", exc_info=task.exception())
            if self.state is not CallState.ENDED:
                self._spawn(self._end(EndReason.FAILED, tell_peer=True))

    async def _receive_loop(self) -> None:
        handlers: dict[SignalKind, Callable[[dict[str, Any]], Awaitable[None]]] = {
            SignalKind.ANSWER: self._accept_answer,
            SignalKind.CANDIDATE: self._add_candidate,
        }
        if self.role is CallRole.CALLEE:
            handlers = {SignalKind.OFFER: self._answer, SignalKind.CANDIDATE: self._add_candidate}
        while self.state is not CallState.ENDED:
            message: IncomingSignal | None = await self.signalling.receive()
            if message is None:
                log.info("signalling closed; the call goes on while media flows")
                return
            if message.kind is SignalKind.HANGUP:
                await self._end(EndReason.REMOTE_HUNG_UP, tell_peer=False)
                return
            handler = handlers.get(message.kind)
            if handler is None:
                log.info("ignored a %s message", message.kind.value)
                continue
            try:
                await handler(message.payload)
            except (KeyError, ValueError, TypeError) as error:
                # A malformed message must not end a call that may still work.
                log.warning("ignored a bad %s message: %s", message.kind.value, error)

    async def _connect_deadline(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), self.options.connect_timeout)
            return
        if self.state is CallState.CONNECTING:
            await self._end(EndReason.NOT_CONNECTED, tell_peer=True)

    async def _stats_loop(self) -> None:
        while self.state is not CallState.ENDED:
            await asyncio.sleep(self.options.stats_interval)
            pc = self.pc
            if pc is None or self.state is not CallState.CONNECTED:
                continue
            try:
                report = await pc.getStats()
            except (AttributeError, RuntimeError, KeyError) as error:
                log.debug("no stats this round: %r", error)  # closed midway
                continue
            quality = replace(self._meter.sample(report), path=call_path(pc, self.relay))
            if pc is not self.pc:
                continue
            now = time.monotonic()
            if quality.heard_from_peer:
                self._last_packets_at = now
            self.listener.quality_changed(quality)
            if now - self._last_packets_at > self.options.stall_timeout:
                self._begin_reconnecting(f"nothing received for {self.options.stall_timeout:.0f} s")
