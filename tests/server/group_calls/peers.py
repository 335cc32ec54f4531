"""Group-call participants for the tests: aiortc GroupSessions with a lavfi camera and a tone,
recording what they receive (tiles' frames, the mix) and what Janus tells them."""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from app.media.group_session import GroupListener, GroupParticipant, GroupSession, Renew
from app.media.ice_config import IcePolicy
from shared.group_call_protocol import GroupJoin
from tests.netns import VETH_ADDRESS

DEADLINE = 20.0


def tone_power(samples: array.array[int], rate: int, frequency: float) -> float:
    """The share of the samples' power at `frequency` (Goertzel), 0..1."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    power = previous**2 + before**2 - coefficient * previous * before
    total = sum(float(sample) * sample for sample in samples) or 1.0
    return 2 * power / (len(samples) * total)


def keep_last(heard: array.array[int], frame: AudioFrame) -> int:
    """Adds the frame's first channel to `heard`, keeping the last fifth of a second (enough to
    tell tones apart); the frame's sample rate."""
    channels = len(frame.layout.channels)
    samples = array.array("h")
    samples.frombytes(bytes(frame.planes[0])[: frame.samples * channels * 2])
    heard.extend(samples[::channels])
    del heard[: -frame.sample_rate // 5]
    rate: int = frame.sample_rate
    return rate


@dataclass
class Heard:
    """What one participant received: tiles' frames per feed, and the last mix samples."""

    video_frames: dict[str, int] = field(default_factory=dict)
    #: The last decoded frame's width per feed (which simulcast layer arrives).
    video_widths: dict[str, int] = field(default_factory=dict)
    mix: array.array[int] = field(default_factory=lambda: array.array("h"))  # noqa: UP037
    mix_rate: int = 48000
    participants: list[GroupParticipant] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    #: What the session said when it lost Janus, and how often it got back in.
    reconnecting: list[str] = field(default_factory=list)
    reconnected: int = 0
    #: The room's screen shares now (feed -> the sharer's name).
    screens: dict[str, str] = field(default_factory=dict)


class Recorder(GroupListener):
    def __init__(self) -> None:
        self.heard = Heard()
        self.readers: list[asyncio.Task[None]] = []

    def participants_changed(self, participants: list[GroupParticipant]) -> None:
        self.heard.participants = participants

    def video_track(self, feed: str, track: MediaStreamTrack) -> None:
        self.readers.append(asyncio.ensure_future(self._video(feed, track)))

    def mix_track(self, track: MediaStreamTrack) -> None:
        self.readers.append(asyncio.ensure_future(self._audio(track)))

    def ended(self, message: str) -> None:
        self.heard.ended.append(message)

    def reconnecting(self, message: str) -> None:
        self.heard.reconnecting.append(message)

    def reconnected(self) -> None:
        self.heard.reconnected += 1

    def screens_changed(self, screens: dict[str, str]) -> None:
        self.heard.screens = screens

    async def _video(self, feed: str, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, VideoFrame)
                self.heard.video_frames[feed] = self.heard.video_frames.get(feed, 0) + 1
                self.heard.video_widths[feed] = frame.width

    async def _audio(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                self.heard.mix_rate = keep_last(self.heard.mix, frame)

    def who(self, participant_id: str) -> GroupParticipant | None:
        return next((p for p in self.heard.participants if p.id == participant_id), None)


class Participant:
    """One aiortc participant: a test picture (or none) and a tone (or no microphone)."""

    def __init__(
        self,
        join: GroupJoin,
        tone: int | None,
        camera: bool,
        size: str = "320x240",
        renew: Renew | None = None,
    ) -> None:
        source = f"testsrc=size={size}:rate=15"
        self.camera = MediaPlayer(source, format="lavfi") if camera else None
        tone_source = f"sine=frequency={tone}"
        self.microphone = MediaPlayer(tone_source, format="lavfi") if tone else None
        self.recorder = Recorder()
        self.session = GroupSession(
            join,
            self.recorder,
            audio=self.microphone.audio if self.microphone else None,
            video=self.camera.video if self.camera else None,
            ice=IcePolicy(interfaces=(VETH_ADDRESS,)),
            renew=renew,
        )

    async def close(self) -> None:
        await self.session.leave()
        for reader in self.recorder.readers:
            reader.cancel()
        for player in (self.camera, self.microphone):
            if player is not None:
                for track in (player.audio, player.video):
                    if track is not None:
                        track.stop()


async def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
