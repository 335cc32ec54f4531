"""Screen sharing: the platform's screen grabber as a PyAV device (x11grab, gdigrab, avfoundation).

Where none applies (offscreen tests, Wayland without X), the Qt adapter pushes grabbed images
into a PushedVideoTrack instead, and tests may share a lavfi source.
"""

import asyncio
import fractions
import os
import sys
import time
from collections.abc import Mapping

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from app.media.devices import DeviceKind, MediaDevice
from app.media.errors import DeviceUnavailable

SCREEN_FPS = 15
_TIME_BASE = fractions.Fraction(1, 90_000)


def screen_device(
    platform: str = sys.platform, environ: Mapping[str, str] | None = None,
    fps: int = SCREEN_FPS,
) -> MediaDevice | None:
    """The whole first screen as a PyAV source on this platform, or None if there is none."""
    env = os.environ if environ is None else environ
    options = {"framerate": str(fps)}
    if platform.startswith("linux"):
        display = env.get("DISPLAY")
        if not display or env.get("QT_QPA_PLATFORM") == "offscreen":
            return None
        return MediaDevice(DeviceKind.CAMERA, "screen", "Screen", display, "x11grab", options)
    if platform == "win32":
        return MediaDevice(DeviceKind.CAMERA, "screen", "Screen", "desktop", "gdigrab", options)
    if platform == "darwin":
        options["capture_cursor"] = "1"
        # avfoundation lists screens after the cameras: "Capture screen 0" is addressed by name.
        return MediaDevice(DeviceKind.CAMERA, "screen", "Screen", "Capture screen 0:none",
                           "avfoundation", options)
    return None


def lavfi_screen(width: int = 1280, height: int = 720, fps: int = SCREEN_FPS) -> MediaDevice:
    """A stand-in screen for tests: SMPTE HD bars."""
    return MediaDevice(DeviceKind.CAMERA, "screen-test", "Test screen",
                       f"smptehdbars=size={width}x{height}:rate={fps}", "lavfi")


def open_screen(device: MediaDevice) -> MediaPlayer:
    """Opens a screen grabber (or a lavfi stand-in) at the screen's own size (blocks: run it in
    an executor); DeviceUnavailable if it cannot be."""
    try:
        player = MediaPlayer(device.file, format=device.format, options=dict(device.options))
    except (av.FFmpegError, OSError, ValueError) as error:
        raise DeviceUnavailable(f"The screen could not be captured ({error}).") from error
    if player.video is None:
        raise DeviceUnavailable("The screen grabber gave no picture.")
    return player


class PushedVideoTrack(MediaStreamTrack):
    """A video track fed by `push(rgb bytes)` from elsewhere (a Qt screen grab); latest wins."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._frame: VideoFrame | None = None
        self._ready = asyncio.Event()
        self._started = time.monotonic()

    def push(self, data: bytes, width: int, height: int, stride: int) -> None:
        """Offer one RGB24 image (`stride` bytes per row). Call on the loop's thread."""
        frame = VideoFrame(width, height, "rgb24")
        plane = frame.planes[0]
        if plane.line_size == stride:
            plane.update(data[: stride * height])
        else:
            rows = b"".join(
                data[row * stride: row * stride + width * 3].ljust(plane.line_size, b"\0")
                for row in range(height)
            )
            plane.update(rows)
        self._frame = frame.reformat(format="yuv420p")
        self._ready.set()

    async def recv(self) -> VideoFrame:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            await self._ready.wait()
            self._ready.clear()
            frame = self._frame
            if frame is None:
                continue
            frame.pts = int((time.monotonic() - self._started) * 90_000)
            frame.time_base = _TIME_BASE
            return frame

    def stop(self) -> None:
        super().stop()
        self._ready.set()
