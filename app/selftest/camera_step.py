"""Step "camera": frames from the test camera through PyAV, at the size asked for."""

import asyncio
from pathlib import Path

from av import VideoFrame

from app.selftest.lavfi_sources import CAMERA_HEIGHT, CAMERA_WIDTH, camera_player
from app.selftest.report import StepFailed

FRAMES = 15
TIMEOUT = 10.0


async def capture(frames: int) -> int:
    player = camera_player()
    track = player.video
    if track is None:
        raise StepFailed("the test camera has no video stream")
    try:
        for index in range(frames):
            frame = await track.recv()
            if not isinstance(frame, VideoFrame):
                raise StepFailed(f"frame {index} is a {type(frame).__name__}, not a video frame")
            if (frame.width, frame.height) != (CAMERA_WIDTH, CAMERA_HEIGHT):
                raise StepFailed(
                    f"frame {index} is {frame.width}x{frame.height}, "
                    f"expected {CAMERA_WIDTH}x{CAMERA_HEIGHT}"
                )
    finally:
        track.stop()
    return frames


async def capture_within(frames: int, timeout: float) -> int:
    try:
        return await asyncio.wait_for(capture(frames), timeout)
    except TimeoutError:
        raise StepFailed(f"fewer than {frames} frames within {timeout:.0f}s") from None


def run(scratch: Path) -> str:
    del scratch
    return f"{asyncio.run(capture_within(FRAMES, TIMEOUT))} frames"
