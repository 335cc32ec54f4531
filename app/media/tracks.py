"""The tracks a call sends: a source that can be switched, muted or paused without renegotiating."""

import asyncio
import fractions
import time
from typing import Any

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame
from av.frame import Frame
from av.packet import Packet

VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)


def silence_like(frame: AudioFrame) -> AudioFrame:
    """A frame of silence with the format, layout, rate and length of `frame`."""
    silent = AudioFrame(format=frame.format.name, layout=frame.layout.name, samples=frame.samples)
    for plane in silent.planes:
        plane.update(bytes(plane.buffer_size))
    silent.sample_rate = frame.sample_rate
    return silent


class SwitchableTrack(MediaStreamTrack):
    """Relays frames from a source that may change during the call (device switch, screen share).

    Frames are stamped again on their way out so that the far side sees one continuous stream
    whatever the source. Audio, when `enabled` is False, becomes silence (the stream goes on, so
    the far side does not take a muted microphone for a lost connection); video, when disabled,
    stops: the source is still read (no stale frames pile up) but nothing is sent.
    """

    def __init__(
        self, kind: str, source: MediaStreamTrack | None = None, restamp: bool = True
    ) -> None:
        super().__init__()
        self.kind = kind
        #: False for a local display: a relayed frame is shared, and only the sender may stamp it.
        self.restamp = restamp
        self.enabled = True
        self._source = source
        self._source_changed = asyncio.Event()
        self._started: float | None = None
        self._next_audio_pts = 0
        self._audio_rate = 0
        #: Frames returned so far (the bench and tests count them).
        self.frames_sent = 0

    @property
    def source(self) -> MediaStreamTrack | None:
        return self._source

    def set_source(self, source: MediaStreamTrack | None) -> None:
        """Read from `source` from the next frame on (the caller stops the old source)."""
        self._source = source
        self._source_changed.set()

    async def _next_from_source(self) -> "Frame | Packet[Any]":
        while True:
            source = self._source
            if source is None:
                self._source_changed.clear()
                await self._source_changed.wait()
                continue
            try:
                frame = await source.recv()
            except MediaStreamError:
                if source is self._source:
                    self._source = None  # it ended; wait for another
                continue
            if source is not self._source:
                continue  # switched while we waited: drop the old source's frame
            return frame

    async def recv(self) -> "Frame | Packet[Any]":
        if self.readyState != "live":
            raise MediaStreamError
        while True:
            frame = await self._next_from_source()
            if not self.restamp:
                if self.enabled:
                    return frame
                continue
            if isinstance(frame, AudioFrame):
                return self._stamp_audio(frame if self.enabled else silence_like(frame))
            if isinstance(frame, VideoFrame) and self.enabled:
                return self._stamp_video(frame)

    def _stamp_audio(self, frame: AudioFrame) -> AudioFrame:
        if frame.sample_rate != self._audio_rate:
            # A new rate starts a new time base; keep the running time continuous.
            if self._audio_rate:
                self._next_audio_pts = self._next_audio_pts * frame.sample_rate // self._audio_rate
            self._audio_rate = frame.sample_rate
        frame.pts = self._next_audio_pts
        frame.time_base = fractions.Fraction(1, frame.sample_rate)
        self._next_audio_pts += frame.samples
        self.frames_sent += 1
        return frame

    def _stamp_video(self, frame: VideoFrame) -> VideoFrame:
        now = time.monotonic()
        if self._started is None:
            self._started = now
        frame.pts = int((now - self._started) * VIDEO_CLOCK_RATE)
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame


class ForwardingTrack(MediaStreamTrack):
    """One peer connection's view of a long-lived track.

    aiortc's sender stops its track when its peer connection closes; a reconnection makes a new
    peer connection, so each gets one of these and the track behind it lives on.
    """

    def __init__(self, inner: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = inner.kind
        self._inner = inner

    async def recv(self) -> "Frame | Packet[Any]":
        if self.readyState != "live" or self._inner.readyState != "live":
            raise MediaStreamError
        return await self._inner.recv()


class LentTrack(MediaStreamTrack):
    """`source` lent to one sender: aiortc stops a sender's track with its peer connection, and
    stopping this one leaves the source running for the next connection (a group call's rejoin).

    No task and no buffer of its own: the sender's reads go straight to the source, so only one
    lent track of a source may be in use at a time.
    """

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source

    async def recv(self) -> "Frame | Packet[Any]":
        if self.readyState != "live":
            raise MediaStreamError
        return await self._source.recv()

