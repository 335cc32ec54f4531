"""baresip as the patient's telephone in the tests, inside the test's network namespace.

It registers its number at the test registrar, plays a steady tone (ausine) as its voice,
writes what it hears to WAV files (sndfile), and takes commands and reports events over
ctrl_tcp (netstring JSON): incoming call, answered, closed, DTMF received. Without a sound
card its player is an aubridge device nobody reads (the null audio device).
"""

import json
import shutil
import socket
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.netns import VETH_ADDRESS, NetNamespace

PHONE_SIP_PORT = 5062
CONTROL_PORT = 4444
#: The phone's voice: a tone the desktop must hear (and the desktop's differs).
PHONE_TONE = 1000
_MODULES = ("g711", "opus", "ausine", "aubridge", "sndfile", "account", "menu", "ctrl_tcp")


def _config(folder: Path) -> str:
    lines = [
        "poll_method epoll",
        f"sip_listen {VETH_ADDRESS}:{PHONE_SIP_PORT}",
        f"audio_source ausine,{PHONE_TONE}",
        "audio_player aubridge,nobody",
        "audio_alert aubridge,nobody",
        "ausrc_srate 48000",
        "auplay_srate 48000",
        "ausrc_channels 2",
        "auplay_channels 2",
        "module_path /usr/lib/baresip/modules",
        *(f"module {name}.so" for name in _MODULES),
        f"ctrl_tcp_listen 127.0.0.1:{CONTROL_PORT}",
        f"snd_path {folder / 'heard'}",
        "call_max_calls 1",
        "rtp_timeout 0",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Phone:
    """A running baresip: its events as they came, and commands."""

    namespace: NetNamespace
    folder: Path
    number: str
    process: subprocess.Popen[bytes] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    _socket: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def log(self) -> Path:
        return self.folder / "baresip.log"

    def saw(self, text: str) -> bool:
        """Whether baresip has written `text` to its log (calls, DTMF, closing)."""
        return text in self.log.read_text(errors="replace")

    def event_types(self) -> list[str]:
        with self._lock:
            return [str(event.get("type", "")) for event in self.events]

    def dtmf(self) -> str:
        """The DTMF digits received so far, in order."""
        with self._lock:
            return "".join(
                str(event.get("param", "")) for event in self.events
                if event.get("type") == "CALL_DTMF_START"
            )

    def command(self, name: str, params: str = "") -> None:
        assert self._socket is not None
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        self._socket.sendall(f"{len(body)}:".encode() + body + b",")

    def heard_wav(self) -> Path | None:
        """The WAV of what the phone decoded in its last call (sndfile's "dec" dump)."""
        found = sorted((self.folder / "heard").glob("*-dec.wav"), key=lambda p: p.stat().st_mtime)
        return found[-1] if found else None

    def _read(self) -> None:
        try:
            self._read_messages()
        except Exception as error:
            with self._lock:
                self.responses.append({"reader_failed": repr(error)})

    def _read_messages(self) -> None:
        assert self._socket is not None
        buffer = b""
        while True:
            try:
                chunk = self._socket.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b":" in buffer:
                length_text, rest = buffer.split(b":", 1)
                length = int(length_text)
                if len(rest) < length + 1:
                    break
                try:
                    message = json.loads(rest[:length])
                except ValueError:
                    message = {"unreadable": rest[:length].decode(errors="replace")}
                buffer = rest[length + 1:]
                with self._lock:
                    (self.events if message.get("event") else self.responses).append(message)


def wav_samples(path: Path) -> tuple[list[int], int]:
    """The first channel's samples of a 16-bit WAV and its rate."""
    with wave.open(str(path), "rb") as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        raw = wav.readframes(wav.getnframes())
    samples = [int.from_bytes(raw[i:i + 2], "little", signed=True)
               for i in range(0, len(raw) - 1, 2 * channels)]
    return samples, rate


@contextmanager
def sip_phone(
    namespace: NetNamespace, folder: Path, number: str, registrar_uri: str, answer: str = "auto"
) -> Iterator[Phone]:
    """baresip registered as `number` at `registrar_uri`, answering `answer` ("auto", "manual")."""
    if shutil.which("baresip") is None:
        pytest.skip("baresip is not installed (apt-get install baresip)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "heard").mkdir(exist_ok=True)
    (folder / "config").write_text(_config(folder), encoding="utf-8")
    host = registrar_uri.removeprefix("sip:")
    account = (f"<sip:{number}@{host}>;regint=60;answermode={answer};"
               "audio_codecs=opus/48000/2,PCMU/8000/1\n")
    (folder / "accounts").write_text(account, encoding="utf-8")
    (folder / "contacts").write_text("", encoding="utf-8")
    phone = Phone(namespace, folder, number)
    with phone.log.open("ab") as log:
        phone.process = subprocess.Popen(
            namespace.command("baresip", "-v", "-f", str(folder)),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 20
        with namespace.entered():
            while phone._socket is None:
                assert phone.process.poll() is None, phone.log.read_text()[-3000:]
                assert time.monotonic() < deadline, "baresip's control port did not open"
                try:
                    phone._socket = socket.create_connection(("127.0.0.1", CONTROL_PORT), 1)
                    phone._socket.settimeout(None)
                except OSError:
                    time.sleep(0.05)
            reader = threading.Thread(target=phone._read, daemon=True)
            reader.start()
        phone.command("reginfo")
        while not phone.responses:
            assert time.monotonic() < deadline, "baresip does not answer on its control port"
            time.sleep(0.05)
        while "200 OK" not in phone.log.read_text(errors="replace"):
            assert phone.process.poll() is None, phone.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"baresip did not register: {phone.log}"
            time.sleep(0.05)
        yield phone
    finally:
        if phone._socket is not None:
            phone._socket.close()
        phone.process.terminate()
        try:
            phone.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            phone.process.kill()
            phone.process.wait()
