"""Decoded video frames made ready to paint: scaled to the widget's size and converted off-thread.

A FrameSink reads a track on the asyncio loop and keeps only the newest frame; one worker thread
scales and converts it to 32-bit BGRX (what Qt paints without another conversion, as
QImage.Format_RGB32 on little-endian machines) and hands the bytes back on the loop. A slow
painter therefore drops frames; it never queues them.
"""

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame
from av.video.reformatter import VideoReformatter

log = logging.getLogger("clinicdesk.media")

#: The byte order of a native 0xffRRGGBB pixel.
PIXEL_FORMAT = "bgra" if sys.byteorder == "little" else "argb"


@dataclass(frozen=True, slots=True)
class PaintableImage:
    """`height` rows of `stride` bytes, 4 bytes a pixel in PIXEL_FORMAT."""

    width: int
    height: int
    stride: int
    data: bytes
    #: The size of the frame before scaling (the camera's or the screen's).
    source_width: int
    source_height: int


def fit_size(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The largest even size of `width`:`height` within the box (at least 2x2)."""
    if width <= 0 or height <= 0 or box_width <= 0 or box_height <= 0:
        return max(2, width - width % 2), max(2, height - height % 2)
    scale = min(box_width / width, box_height / height)
    fitted_w = max(2, int(width * scale) // 2 * 2)
    fitted_h = max(2, int(height * scale) // 2 * 2)
    return fitted_w, fitted_h


def to_paintable(
    frame: VideoFrame, box_width: int, box_height: int, reformatter: VideoReformatter | None = None
) -> PaintableImage:
    """Scale `frame` to fit the box and convert it (runs in a worker thread).

    A relayed frame is shared with the encoder, which converts it on another thread with the
    frame's own cached converter; so this uses its own (`frame.reformat` would share it).
    """
    width, height = fit_size(frame.width, frame.height, box_width, box_height)
    converter = reformatter or VideoReformatter()
    converted = converter.reformat(frame, width=width, height=height, format=PIXEL_FORMAT)
    plane = converted.planes[0]
    return PaintableImage(width, height, plane.line_size, bytes(plane), frame.width, frame.height)


class FrameSink:
    """Shows a video track: call `attach(track)`; `on_image` gets each painted-size image."""

    def __init__(self, on_image: Callable[[PaintableImage], None], name: str = "video") -> None:
        self._on_image = on_image
        # One thread, one converter: frames are converted one at a time, in order.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"frames-{name}")
        self._reformatter = VideoReformatter()
        self._box = (640, 480)
        self._latest: VideoFrame | None = None
        self._ready = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._converter: asyncio.Task[None] | None = None
        self.track: MediaStreamTrack | None = None
        #: Images delivered, and when the first one was (time.monotonic()).
        self.frames_shown = 0
        self.first_frame_at: float | None = None

    def set_target_size(self, width: int, height: int) -> None:
        """The size (device pixels) to scale to; takes effect from the next frame."""
        self._box = (max(2, width), max(2, height))

    def attach(self, track: MediaStreamTrack) -> None:
        """Show `track` from now on (replacing the one shown before)."""
        self.detach()
        self.track = track
        self._reader = asyncio.ensure_future(self._read(track))
        if self._converter is None or self._converter.done():
            self._converter = asyncio.ensure_future(self._convert())

    def detach(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        self.track = None
        self._latest = None

    def close(self) -> None:
        self.detach()
        if self._converter is not None:
            self._converter.cancel()
            self._converter = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    self._latest = frame
                    self._ready.set()

    async def _convert(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._ready.wait()
            self._ready.clear()
            frame, self._latest = self._latest, None
            if frame is None:
                continue
            width, height = self._box
            try:
                image = await loop.run_in_executor(
                    self._executor, to_paintable, frame, width, height, self._reformatter
                )
            except RuntimeError:
                return  # the executor was shut down: closing
            if self.first_frame_at is None:
                self.first_frame_at = time.monotonic()
            self.frames_shown += 1
            self._on_image(image)
