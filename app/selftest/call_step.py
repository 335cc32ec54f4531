"""Step "call": two aiortc peers in this process, VP8 video and audio, on loopback only."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
)
from av import AudioFrame, VideoFrame

from app.media.ice_config import candidate_addresses, confined_to
from app.selftest.lavfi_sources import (
    CAMERA_HEIGHT,
    CAMERA_WIDTH,
    camera_player,
    microphone_player,
)
from app.selftest.report import StepFailed
from app.selftest.sdp_codecs import negotiated_codec

VIDEO_FRAMES = 10
AUDIO_FRAMES = 25
TIMEOUT = 20.0

#: The self-test's call never leaves this machine.
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class CallResult:
    video_codec: str
    video_frames: int
    audio_frames: int


async def count_frames(track: MediaStreamTrack, wanted: int) -> int:
    """Receive `wanted` decoded frames of the track's kind from the far side."""
    for index in range(wanted):
        frame = await track.recv()
        if track.kind == "video":
            if not isinstance(frame, VideoFrame):
                raise StepFailed(f"video frame {index} is a {type(frame).__name__}")
            if (frame.width, frame.height) != (CAMERA_WIDTH, CAMERA_HEIGHT):
                raise StepFailed(f"decoded video is {frame.width}x{frame.height}")
        elif not isinstance(frame, AudioFrame):
            raise StepFailed(f"audio frame {index} is a {type(frame).__name__}")
    return wanted


def check_loopback_only(sdp: str, side: str) -> None:
    addresses = candidate_addresses(sdp)
    if not addresses:
        raise StepFailed(f"the {side} gathered no ICE candidates on {LOOPBACK}")
    strangers = sorted({address for address in addresses if address != LOOPBACK})
    if strangers:
        raise StepFailed(f"the {side} offered non-loopback ICE candidates: {', '.join(strangers)}")


async def loopback_call(video_frames: int, audio_frames: int) -> CallResult:
    # No ICE servers: aiortc would otherwise ask a public STUN server.
    config = RTCConfiguration(iceServers=[])
    caller = RTCPeerConnection(config)
    callee = RTCPeerConnection(config)
    camera = camera_player()
    microphone = microphone_player()
    counters: dict[str, asyncio.Task[int]] = {}
    wanted = {"video": video_frames, "audio": audio_frames}

    @callee.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        counters[track.kind] = asyncio.ensure_future(count_frames(track, wanted[track.kind]))

    try:
        if camera.video is None or microphone.audio is None:
            raise StepFailed("the test camera or microphone has no stream")
        caller.addTrack(camera.video)
        caller.addTrack(microphone.audio)
        vp8 = [
            codec for codec in RTCRtpSender.getCapabilities("video").codecs
            if codec.mimeType.lower() == "video/vp8"
        ]
        if not vp8:
            raise StepFailed("this aiortc has no VP8 codec")
        for transceiver in caller.getTransceivers():
            if transceiver.kind == "video":
                transceiver.setCodecPreferences(vp8)

        await caller.setLocalDescription(await caller.createOffer())
        await callee.setRemoteDescription(caller.localDescription)
        await callee.setLocalDescription(await callee.createAnswer())
        await caller.setRemoteDescription(callee.localDescription)
        check_loopback_only(caller.localDescription.sdp, "caller")
        check_loopback_only(callee.localDescription.sdp, "callee")
        codec = negotiated_codec(callee.localDescription.sdp, "video")
        if codec is None or codec.upper() != "VP8":
            raise StepFailed(f"the call negotiated {codec or 'no video codec'}, not VP8")

        while len(counters) < 2:
            await asyncio.sleep(0.01)
        received = await asyncio.gather(counters["video"], counters["audio"])
        return CallResult(codec, received[0], received[1])
    finally:
        for task in counters.values():
            task.cancel()
        await caller.close()
        await callee.close()
        for track in (camera.video, microphone.audio):
            if track is not None:
                track.stop()


async def call_within(timeout: float) -> CallResult:
    try:
        return await asyncio.wait_for(loopback_call(VIDEO_FRAMES, AUDIO_FRAMES), timeout)
    except TimeoutError:
        raise StepFailed(
            f"no {VIDEO_FRAMES} video and {AUDIO_FRAMES} audio frames on the far side "
            f"within {timeout:.0f}s (ICE on {LOOPBACK} did not connect?)"
        ) from None


def run(scratch: Path) -> str:
    del scratch
    with confined_to([LOOPBACK]):
        result = asyncio.run(call_within(TIMEOUT))
    return (
        f"{result.video_codec.lower()} {result.video_frames} frames/"
        f"audio {result.audio_frames} frames"
    )
