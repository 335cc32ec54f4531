"""What a simulated patient sends: a video card with their name and a moving dot, and a
voice-like tone (a gliding pitch with harmonics, in syllables and pauses).

Frames are paced by the clock like a camera's and a microphone's, stamped for aiortc's
encoders. The card is painted with QPainter on a QImage (a QGuiApplication must exist: the
patients' process makes an offscreen one), since PyAV's bundled FFmpeg has no text filter.
"""

import array
import asyncio
import fractions
import math
import time

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

VIDEO_RATE = 90_000
FPS = 15
AUDIO_RATE = 48_000
AUDIO_SAMPLES = 960  # 20 ms
#: One "sentence" of the voice, repeated (a whole number of frames).
VOICE_SECONDS = 3


class _Pacer:
    """Hands out frames no faster than real time, like a device would."""

    def __init__(self) -> None:
        self._started: float | None = None

    async def at(self, seconds: float) -> float:
        """Wait until `seconds` after the first frame; the seconds since that frame."""
        now = time.monotonic()
        if self._started is None:
            self._started = now
        elif self._started + seconds > now:
            await asyncio.sleep(self._started + seconds - now)
        return time.monotonic() - self._started


class NameCardTrack(MediaStreamTrack):
    """Video: the patient's name on a calm background and a dot going round (so a frozen
    picture is easy to tell from a live one)."""

    kind = "video"

    def __init__(self, name: str, width: int = 480, height: int = 360) -> None:
        super().__init__()
        self.name = name
        self.width, self.height = width, height
        self._pacer = _Pacer()
        self._count = 0
        self._image = QImage(width, height, QImage.Format.Format_RGB32)
        hue = sum(map(ord, name)) % 360
        self._background = QColor.fromHsv(hue, 90, 120)

    def paint(self, seconds: float) -> QImage:
        image = self._image
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(image.rect(), self._background)
        painter.setPen(QColor("white"))
        font = QFont()
        font.setPixelSize(self.height // 9)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(QRectF(0, 0, self.width, self.height * 0.6),
                         Qt.AlignmentFlag.AlignCenter, self.name)
        font.setPixelSize(self.height // 18)
        font.setBold(False)
        painter.setFont(font)
        painter.drawText(QRectF(0, self.height * 0.45, self.width, self.height * 0.2),
                         Qt.AlignmentFlag.AlignCenter, "simulated patient (demo)")
        angle = seconds * 2.0
        centre = QPointF(self.width / 2 + math.cos(angle) * self.width * 0.3,
                         self.height * 0.78 + math.sin(angle) * self.height * 0.12)
        painter.setBrush(QColor("#ffd24a"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(centre, self.height / 20, self.height / 20)
        painter.end()
        return image

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        image = self.paint(await self._pacer.at(self._count / FPS))
        frame = VideoFrame(self.width, self.height, "bgra")
        # Format_RGB32 is B, G, R, 0xff in memory on little-endian machines; rows are packed.
        frame.planes[0].update(bytes(image.constBits()))
        frame.pts = int(self._count * VIDEO_RATE / FPS)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        self._count += 1
        return frame


def voice_samples(seconds: int = VOICE_SECONDS, rate: int = AUDIO_RATE) -> bytes:
    """s16 mono: a pitch gliding round 150 Hz with five harmonics, shaped into syllables of
    ~0.2 s with a pause after every few (a voice's rhythm, not its words)."""
    samples = array.array("h")
    phase = 0.0
    for n in range(seconds * rate):
        t = n / rate
        pitch = 150.0 + 25.0 * math.sin(2 * math.pi * 0.7 * t)
        phase += 2 * math.pi * pitch / rate
        tone = sum(math.sin(k * phase) / k for k in range(1, 6))
        syllable = math.sin(math.pi * ((t * 5.0) % 1.0)) ** 2
        pause = 0.0 if (t % 1.5) > 1.1 else 1.0
        samples.append(int(6000 * tone * syllable * pause))
    return samples.tobytes()


class VoiceToneTrack(MediaStreamTrack):
    """Audio: `voice_samples` in 20 ms frames, paced like a microphone."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pcm = voice_samples()
        self._pacer = _Pacer()
        self._sent = 0  # samples

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pacer.at(self._sent / AUDIO_RATE)
        frame = AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        # The voice lasts a whole number of frames, so a frame never straddles its end.
        start = (self._sent * 2) % len(self._pcm)
        frame.planes[0].update(self._pcm[start:start + AUDIO_SAMPLES * 2])
        frame.pts = self._sent
        frame.sample_rate = AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._sent += AUDIO_SAMPLES
        return frame
