"""Remote audio made ready to play: decoded frames resampled to one PCM format, handed on in chunks.

Qt-free: a PcmPump reads the remote audio track and calls `on_pcm(bytes)` on the loop with
interleaved signed 16-bit PCM at PCM_RATE/PCM_CHANNELS; the Qt adapter writes it to a QAudioSink.
"""

import asyncio
import contextlib
from collections.abc import Callable

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, AudioResampler

PCM_RATE = 48_000
PCM_CHANNELS = 2
PCM_SAMPLE_BYTES = 2


class PcmPump:
    """Plays a track into `on_pcm`; `attach` again after a reconnection gives a new track."""

    def __init__(self, on_pcm: Callable[[bytes], None]) -> None:
        self._on_pcm = on_pcm
        self._resampler = AudioResampler(format="s16", layout="stereo", rate=PCM_RATE)
        self._reader: asyncio.Task[None] | None = None
        self.chunks = 0

    def attach(self, track: MediaStreamTrack) -> None:
        self.detach()
        self._reader = asyncio.ensure_future(self._read(track))

    def detach(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, AudioFrame):
                    continue
                for converted in self._resampler.resample(frame):
                    size = converted.samples * PCM_CHANNELS * PCM_SAMPLE_BYTES
                    self.chunks += 1
                    self._on_pcm(bytes(converted.planes[0])[:size])
