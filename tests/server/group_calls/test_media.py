"""Group-call media through a real Janus: aiortc participants (the desktop's GroupSession) publish
camera and microphone, subscribe to tiles, and hear one AudioBridge mix of the others."""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.domain.group_call_protocol import GroupJoin
from app.media.group_session import GroupListener, GroupParticipant, GroupSession
from app.media.ice_config import IcePolicy
from tests.netns import VETH_ADDRESS
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_join, guest_link, staff_join

#: Every tone sits on its own frequency, so the mix can be taken apart again.
TONES = {"clinician": 300, "guest-1": 440, "guest-2": 880}
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


@dataclass
class Heard:
    """What one participant received: tiles' frames per feed, and the last mix samples."""

    video_frames: dict[str, int] = field(default_factory=dict)
    mix: array.array[int] = field(default_factory=lambda: array.array("h"))  # noqa: UP037
    mix_rate: int = 48000
    participants: list[GroupParticipant] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)


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

    async def _video(self, feed: str, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, VideoFrame)
                self.heard.video_frames[feed] = self.heard.video_frames.get(feed, 0) + 1

    async def _audio(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                channels = len(frame.layout.channels)
                samples = array.array("h")
                samples.frombytes(bytes(frame.planes[0])[: frame.samples * channels * 2])
                self.heard.mix_rate = frame.sample_rate
                # The first channel; a fifth of a second is enough to tell the tones apart.
                self.heard.mix.extend(samples[::channels])
                del self.heard.mix[: -frame.sample_rate // 5]

    def who(self, participant_id: str) -> GroupParticipant | None:
        return next((p for p in self.heard.participants if p.id == participant_id), None)


class Participant:
    def __init__(self, join: GroupJoin, tone: int, camera: bool) -> None:
        self.camera = (
            MediaPlayer("testsrc=size=320x240:rate=15", format="lavfi") if camera else None
        )
        self.microphone = MediaPlayer(f"sine=frequency={tone}", format="lavfi")
        self.recorder = Recorder()
        self.session = GroupSession(
            join,
            self.recorder,
            audio=self.microphone.audio,
            video=self.camera.video if self.camera else None,
            ice=IcePolicy(interfaces=(VETH_ADDRESS,)),
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


@pytest_asyncio.fixture
async def room(
    client: TestClient, clinic: Clinic, engine: Engine
) -> AsyncIterator[dict[str, Participant]]:
    appointment = book_group(engine, clinic)
    joins = {
        "clinician": staff_join(client, clinic, "ng", appointment),
        "guest-1": guest_join(client, guest_link(engine, appointment, 1)),
        "guest-2": guest_join(client, guest_link(engine, appointment, 2)),
    }
    people = {
        name: Participant(join, TONES[name], camera=name != "guest-2")
        for name, join in joins.items()
    }
    try:
        for person in people.values():
            await person.session.start()
        yield people
    finally:
        for person in people.values():
            await person.close()


@pytest.mark.asyncio
async def test_tiles_and_the_mix_carry_everyone(room: dict[str, Participant]) -> None:
    clinician, first, second = room["clinician"], room["guest-1"], room["guest-2"]
    me = clinician.recorder
    everyone = {
        (clinician.session.join.id, "Ng", True),
        ("guest-1", "Guest 1", True),
        ("guest-2", "Guest 2", False),
    }
    await wait_until(
        lambda: {(p.id, p.display, p.video) for p in me.heard.participants} == everyone,
        "everyone in the list, with who sends video",
    )
    # Video: the clinician shows the guest's tile; the guest shows the clinician's.
    await clinician.session.show(["guest-1"])
    await first.session.show([clinician.session.join.id])
    await wait_until(lambda: me.heard.video_frames.get("guest-1", 0) >= 10, "the guest's video")
    await wait_until(
        lambda: first.recorder.heard.video_frames.get(clinician.session.join.id, 0) >= 10,
        "the clinician's video at the guest",
    )

    # Audio: one mix of the others, never one's own voice.
    def hears(recorder: Recorder, tone: int) -> bool:
        heard = recorder.heard
        return len(heard.mix) > 1000 and tone_power(heard.mix, heard.mix_rate, tone) > 0.05

    await wait_until(lambda: hears(me, TONES["guest-1"]) and hears(me, TONES["guest-2"]), "mix")
    assert not hears(me, TONES["clinician"])
    await wait_until(lambda: hears(second.recorder, TONES["clinician"]), "the guest's mix")
    # Janus's talking events mark the guests speaking.
    await wait_until(lambda: (who := me.who("guest-2")) is not None and who.talking, "talking")

    # Muting: everyone's list shows it, and the tone leaves the mix.
    await second.session.set_muted(True)
    await wait_until(lambda: (who := me.who("guest-2")) is not None and who.muted, "muted")
    assert not me.who("guest-2").talking  # type: ignore[union-attr]
    await wait_until(lambda: not hears(me, TONES["guest-2"]), "the muted tone to go")
    assert hears(me, TONES["guest-1"])
