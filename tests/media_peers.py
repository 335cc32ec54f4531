"""Two in-process call peers over loopback with lavfi sources: the media tests' harness."""

import array
import asyncio
import contextlib
from dataclasses import dataclass, field

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from app.media.call_listener import CallListener
from app.media.call_options import CallOptions
from app.media.call_session import CallRole, CallSession, IceRenewal
from app.media.call_state import CallState, EndReason
from app.media.ice_config import IcePolicy
from app.media.signalling import InMemorySignalling
from app.media.stats import CallQuality
from app.media.tracks import SwitchableTrack
from tests.polling import eventually


def peak(frame: AudioFrame) -> int:
    """The largest absolute sample of a packed s16 frame (what aiortc's opus decoder gives)."""
    assert frame.format.name == "s16", frame.format.name
    samples = array.array("h")
    samples.frombytes(bytes(frame.planes[0])[: frame.samples * len(frame.layout.channels) * 2])
    return max((abs(sample) for sample in samples), default=0)


@dataclass
class Received:
    video_frames: int = 0
    audio_frames: int = 0
    loud_audio_frames: int = 0
    last_video: VideoFrame | None = None
    new_video: asyncio.Event = field(default_factory=asyncio.Event)
    new_audio: asyncio.Event = field(default_factory=asyncio.Event)


class RecordingListener(CallListener):
    """Remembers what a session reported and counts the decoded remote frames."""

    def __init__(self) -> None:
        self.states: list[CallState] = []
        self.reasons: list[EndReason | None] = []
        self.chat: list[str] = []
        self.qualities: list[CallQuality] = []
        self.received = Received()
        self.chat_arrived = asyncio.Event()
        self.state_seen: dict[CallState, asyncio.Event] = {s: asyncio.Event() for s in CallState}
        self._readers: list[asyncio.Task[None]] = []

    def state_changed(self, state: CallState, reason: EndReason | None) -> None:
        self.states.append(state)
        self.reasons.append(reason)
        self.state_seen[state].set()

    def remote_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.ensure_future(self._read(track)))

    def chat_received(self, text: str) -> None:
        self.chat.append(text)
        self.chat_arrived.set()

    def quality_changed(self, quality: CallQuality) -> None:
        self.qualities.append(quality)

    async def _read(self, track: MediaStreamTrack) -> None:
        received = self.received
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    received.video_frames += 1
                    received.last_video = frame
                    received.new_video.set()
                elif isinstance(frame, AudioFrame):
                    received.audio_frames += 1
                    if peak(frame) > 1000:
                        received.loud_audio_frames += 1
                    received.new_audio.set()

    def stop(self) -> None:
        for reader in self._readers:
            reader.cancel()


class Peer:
    """One side: lavfi camera and tone behind SwitchableTracks, a session and its listener."""

    def __init__(
        self, signalling: InMemorySignalling, role: CallRole, options: CallOptions,
        size: str = "320x240", tone: int = 440, renew_ice: IceRenewal | None = None,
    ) -> None:
        self.camera = MediaPlayer(f"testsrc=size={size}:rate=30", format="lavfi")
        self.microphone = MediaPlayer(f"sine=frequency={tone}", format="lavfi")
        self.video = SwitchableTrack("video", self.camera.video)
        self.audio = SwitchableTrack("audio", self.microphone.audio)
        self.listener = RecordingListener()
        self.signalling = signalling
        self.session = CallSession(
            signalling, options, self.listener, role=role, audio=self.audio, video=self.video,
            renew_ice=renew_ice,
        )

    async def close(self) -> None:
        if self.session.state is not CallState.ENDED and self.session.state is not CallState.IDLE:
            await self.session.hang_up()
        self.listener.stop()
        for track in (self.video, self.audio, self.camera.video, self.microphone.audio):
            if track is not None:
                track.stop()
        await self.signalling.close()


def quick_options(**changes: object) -> CallOptions:
    """Loopback-only ICE and short timings for tests."""
    values: dict[str, object] = {
        "ice": IcePolicy.loopback(),
        "connect_timeout": 10.0,
        "reconnect_timeout": 3.0,
        "attempt_timeout": 1.5,
        "stall_timeout": 1.0,
        "stats_interval": 0.25,
    }
    values.update(changes)
    return CallOptions(**values)  # type: ignore[arg-type]


async def call_pair(**changes: object) -> tuple[Peer, Peer]:
    """A caller and a callee, the call started on both sides (not yet connected)."""
    left, right = InMemorySignalling.pair()
    options = quick_options(**changes)
    caller = Peer(left, CallRole.CALLER, options, tone=440)
    callee = Peer(right, CallRole.CALLEE, options, tone=880)
    await callee.session.start()
    await caller.session.start()
    return caller, callee


async def wait_for(event: asyncio.Event, timeout: float = 10.0) -> None:
    await asyncio.wait_for(event.wait(), timeout)


async def drained(received: Received, audio_frames: int = 10) -> None:
    """Wait until what was in flight before a mute or camera-off has arrived: `audio_frames`
    audio frames in a row with no loud one and no new video frame between them."""
    mark = (received.audio_frames, received.loud_audio_frames, received.video_frames)

    def quiet_for_long_enough() -> bool:
        nonlocal mark
        if (received.loud_audio_frames, received.video_frames) != mark[1:]:
            mark = (received.audio_frames, received.loud_audio_frames, received.video_frames)
            return False
        return received.audio_frames >= mark[0] + audio_frames

    await eventually(quiet_for_long_enough, what="the frames in flight to drain")


async def drop_network(peer: Peer) -> None:
    """The peer's network goes away: its ICE sockets close, and nothing tells the other side."""
    pc = peer.session.pc
    assert pc is not None
    transports = {t.sender.transport.transport for t in pc.getTransceivers()}
    if pc.sctp is not None:
        transports.add(pc.sctp.transport.transport)
    for transport in transports:
        await transport._connection.close()
