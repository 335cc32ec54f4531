"""The call's loudspeaker: PCM from app.media played through QtMultimedia's QAudioSink.

A machine without a sound server or output device (a headless test box, a locked-down VM) gets
no sink: the adapter says so once in the log and drops the audio; the call goes on.
"""

import logging
import sys

from PySide6.QtCore import QIODevice, QLoggingCategory, QObject

from app.media.audio_output import PCM_CHANNELS, PCM_RATE, PCM_SAMPLE_BYTES
from app.media.devices import pulse_available

log = logging.getLogger("clinicdesk.media")

#: About this much audio may wait in the sink; older audio is dropped rather than delayed.
BUFFER_SECONDS = 0.2


def multimedia_usable() -> bool:
    """Whether QtMultimedia can reach a sound system here (on Linux: a PulseAudio/PipeWire server).

    Asking QtMultimedia without one makes it print warnings and find nothing.
    """
    if sys.platform.startswith("linux"):
        return pulse_available()
    return True


class AudioOutput(QObject):
    """Plays PCM_RATE Hz, PCM_CHANNELS-channel signed 16-bit PCM on the chosen output."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sink: object | None = None
        self._io: QIODevice | None = None
        self._warned = False
        self.device_id: str | None = None

    @staticmethod
    def outputs() -> list[tuple[str, str]]:
        """(id, name) of each output device; empty where there is no sound system."""
        if not multimedia_usable():
            return []
        # Missing optional codec/VA libraries are no concern of a call: keep them out of the log.
        QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver.warning=false")
        from PySide6.QtMultimedia import QMediaDevices

        return [(bytes(device.id().data()).decode(errors="replace"), device.description())
                for device in QMediaDevices.audioOutputs()]

    @property
    def playing(self) -> bool:
        return self._io is not None

    def start(self, device_id: str | None = None) -> bool:
        """Open the output (`device_id` from outputs(), else the default); False if none."""
        self.stop()
        self.device_id = device_id
        outputs = self.outputs()
        if not outputs:
            self._say_once("no audio output device: the other party's audio is not played")
            return False
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

        chosen = QMediaDevices.defaultAudioOutput()
        for device in QMediaDevices.audioOutputs():
            if bytes(device.id().data()).decode(errors="replace") == device_id:
                chosen = device
        audio_format = QAudioFormat()
        audio_format.setSampleRate(PCM_RATE)
        audio_format.setChannelCount(PCM_CHANNELS)
        audio_format.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if chosen.isNull() or not chosen.isFormatSupported(audio_format):
            self._say_once(f"the audio output {chosen.description()!r} cannot play the call")
            return False
        sink = QAudioSink(chosen, audio_format, self)
        sink.setBufferSize(int(PCM_RATE * PCM_CHANNELS * PCM_SAMPLE_BYTES * BUFFER_SECONDS))
        io = sink.start()
        if io is None:
            self._say_once(f"the audio output {chosen.description()!r} could not be opened")
            sink.deleteLater()
            return False
        self._sink, self._io = sink, io
        log.info("audio output: %s", chosen.description())
        return True

    def write(self, pcm: bytes) -> None:
        """Queue PCM for playing; dropped when nothing plays or the sink is full."""
        io = self._io
        if io is None:
            return
        io.write(pcm)

    def stop(self) -> None:
        sink, self._sink, self._io = self._sink, None, None
        if sink is not None:
            sink.stop()  # type: ignore[attr-defined]
            sink.deleteLater()  # type: ignore[attr-defined]

    def _say_once(self, text: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning(text)
