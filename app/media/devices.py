"""Cameras and microphones per platform (v4l2/pulse/alsa, dshow, avfoundation), plus test sources.

A device is what PyAV needs to open it (`file`, `format`, options) and a name for people.
The test pattern and the tone are always listed (unless the machine policy disables them), so a
machine without a camera or microphone can still call, and so can the tests.
"""

import logging
import os
import re
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

log = logging.getLogger("clinicdesk.media")

TEST_PATTERN_ID = "test-pattern"
TEST_TONE_ID = "test-tone"


class DeviceKind(StrEnum):
    CAMERA = "camera"
    MICROPHONE = "microphone"


@dataclass(frozen=True, slots=True)
class MediaDevice:
    """`id` is stable across runs (what Settings remembers); `name` is shown."""

    kind: DeviceKind
    id: str
    name: str
    file: str
    format: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def is_test_source(self) -> bool:
        return self.format == "lavfi"


def pattern_camera(width: int = 640, height: int = 480, fps: int = 30) -> MediaDevice:
    return MediaDevice(
        DeviceKind.CAMERA, TEST_PATTERN_ID, "Test pattern",
        f"testsrc=size={width}x{height}:rate={fps},format=yuv420p", "lavfi",
    )


def tone_microphone(frequency: int = 440) -> MediaDevice:
    return MediaDevice(
        DeviceKind.MICROPHONE, TEST_TONE_ID, "Test tone", f"sine=frequency={frequency}", "lavfi"
    )


# -- Linux ------------------------------------------------------------------------------------

def linux_cameras(sysfs: Path = Path("/sys/class/video4linux")) -> list[MediaDevice]:
    """V4L2 capture nodes, named from sysfs (metadata nodes, index > 0, are skipped)."""
    cameras: list[MediaDevice] = []
    if not sysfs.is_dir():
        return cameras
    for node in sorted(sysfs.iterdir(), key=lambda path: _natural(path.name)):
        index = node / "index"
        if index.is_file() and index.read_text().strip() not in ("", "0"):
            continue
        name_file = node / "name"
        name = name_file.read_text().strip() if name_file.is_file() else node.name
        cameras.append(
            MediaDevice(DeviceKind.CAMERA, f"v4l2:{name}:{node.name}", name,
                        f"/dev/{node.name}", "v4l2")
        )
    return cameras


def pulse_available(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("PULSE_SERVER"):
        return True
    runtime = env.get("XDG_RUNTIME_DIR")
    return runtime is not None and Path(runtime, "pulse", "native").exists()


def alsa_microphones(pcm: Path = Path("/proc/asound/pcm")) -> list[MediaDevice]:
    """ALSA capture devices ("00-00: name : description : playback 1 : capture 1")."""
    microphones: list[MediaDevice] = []
    if not pcm.is_file():
        return microphones
    for line in pcm.read_text(errors="replace").splitlines():
        match = re.match(r"^(\d+)-(\d+): ([^:]*):.*capture", line)
        if not match:
            continue
        card, device, name = int(match[1]), int(match[2]), match[3].strip()
        microphones.append(
            MediaDevice(DeviceKind.MICROPHONE, f"alsa:{name}:{card},{device}", name,
                        f"hw:{card},{device}", "alsa")
        )
    return microphones


def linux_microphones() -> list[MediaDevice]:
    found: list[MediaDevice] = []
    if pulse_available():
        found.append(MediaDevice(DeviceKind.MICROPHONE, "pulse:default",
                                 "Default microphone (PulseAudio)", "default", "pulse"))
    return found + alsa_microphones()


# -- Windows and macOS: FFmpeg lists the devices in its log --------------------------------------

def parse_dshow_list(lines: list[str]) -> list[MediaDevice]:
    """FFmpeg ≥ 5 writes `"Name" (video)` / `"Name" (audio)`; older ones had section headers."""
    found: list[MediaDevice] = []
    section: DeviceKind | None = None
    for line in lines:
        if "DirectShow video devices" in line:
            section = DeviceKind.CAMERA
        elif "DirectShow audio devices" in line:
            section = DeviceKind.MICROPHONE
        match = re.search(r'"([^"]+)"(?:\s*\((video|audio)\))?', line)
        if not match or "Alternative name" in line:
            continue
        kind = {"video": DeviceKind.CAMERA, "audio": DeviceKind.MICROPHONE}.get(
            match[2] or "", section)
        if kind is None:
            continue
        prefix = "video" if kind is DeviceKind.CAMERA else "audio"
        found.append(MediaDevice(kind, f"dshow:{match[1]}", match[1],
                                 f"{prefix}={match[1]}", "dshow"))
    return found


def parse_avfoundation_list(lines: list[str]) -> list[MediaDevice]:
    """`AVFoundation video devices:` then `[0] FaceTime HD Camera` ... (screens skipped)."""
    found: list[MediaDevice] = []
    section: DeviceKind | None = None
    for line in lines:
        if "AVFoundation video devices" in line:
            section = DeviceKind.CAMERA
            continue
        if "AVFoundation audio devices" in line:
            section = DeviceKind.MICROPHONE
            continue
        match = re.search(r"\[(\d+)\] (.+)$", line)
        if not match or section is None or match[2].startswith("Capture screen"):
            continue
        index, name = match[1], match[2].strip()
        file = f"{index}:none" if section is DeviceKind.CAMERA else f"none:{index}"
        found.append(MediaDevice(section, f"avfoundation:{name}", name, file, "avfoundation"))
    return found


def _ffmpeg_device_log(format_name: str, file: str) -> list[str]:
    import av
    import av.logging

    with av.logging.Capture() as captured:
        try:
            av.open(file, format=format_name, options={"list_devices": "true"})
        except (av.FFmpegError, OSError):
            pass  # listing always "fails": it opens nothing
    return [message for _level, _name, message in captured]


# -- all together --------------------------------------------------------------------------------

def list_devices(
    kind: DeviceKind, include_test_sources: bool = True, platform: str = sys.platform
) -> list[MediaDevice]:
    """The devices of `kind` on this machine, then the test source (if allowed). May block."""
    found: list[MediaDevice] = []
    try:
        if platform.startswith("linux"):
            found = linux_cameras() if kind is DeviceKind.CAMERA else linux_microphones()
        elif platform == "win32":
            lines = _ffmpeg_device_log("dshow", "dummy")
            found = [device for device in parse_dshow_list(lines) if device.kind is kind]
        elif platform == "darwin":
            lines = _ffmpeg_device_log("avfoundation", "")
            found = [device for device in parse_avfoundation_list(lines) if device.kind is kind]
    except OSError as error:
        log.warning("could not list %s devices: %s", kind.value, error)
    if include_test_sources:
        found.append(pattern_camera() if kind is DeviceKind.CAMERA else tone_microphone())
    return found


def choose(
    devices: list[MediaDevice], remembered_id: str | None
) -> MediaDevice | None:
    """The remembered device if present, else the first real one, else the test source."""
    for device in devices:
        if device.id == remembered_id:
            return device
    real = [device for device in devices if not device.is_test_source]
    candidates = real or devices
    return candidates[0] if candidates else None


def _natural(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]
