"""Local capture: one camera and one microphone opened with PyAV, shared by the call and self-view.

One capture feeds both the self-view and the peer through aiortc's MediaRelay. The tracks given
to the call (`outgoing_video`, `outgoing_audio`) and to the self-view (`self_view`) are
SwitchableTracks, so a device switch or a screen share changes their source mid-call without
renegotiation.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer, MediaRelay

from app.media.devices import DeviceKind, MediaDevice
from app.media.errors import DeviceUnavailable
from app.media.tracks import SwitchableTrack

log = logging.getLogger("clinicdesk.media")


@dataclass(frozen=True, slots=True)
class CaptureProfile:
    """What to ask a camera for (it may give something else; frames are scaled for display)."""

    width: int = 640
    height: int = 480
    fps: int = 30


def player_arguments(
    device: MediaDevice, profile: CaptureProfile
) -> tuple[str, str, dict[str, str]]:
    """(file, format, options) for PyAV to open `device` at `profile`."""
    options = dict(device.options)
    if device.format == "lavfi":
        if device.kind is DeviceKind.CAMERA and device.file.startswith("testsrc"):
            # yuv420p: what the encoder wants (no conversion), half the bytes of rgb24.
            size = f"{profile.width}x{profile.height}"
            file = f"testsrc=size={size}:rate={profile.fps},format=yuv420p"
            return file, "lavfi", options
        return device.file, "lavfi", options
    if device.kind is DeviceKind.CAMERA:
        options.setdefault("video_size", f"{profile.width}x{profile.height}")
        options.setdefault("framerate", str(profile.fps))
    return device.file, device.format, options


def open_player(device: MediaDevice, profile: CaptureProfile) -> MediaPlayer:
    """Open `device` (blocks: run it in an executor); DeviceUnavailable if it cannot be."""
    file, format_name, options = player_arguments(device, profile)
    try:
        player = MediaPlayer(file, format=format_name, options=options)
    except (av.FFmpegError, OSError, ValueError) as error:
        raise DeviceUnavailable(f"{device.name} could not be opened ({error}).") from error
    wanted = player.video if device.kind is DeviceKind.CAMERA else player.audio
    if wanted is None:
        raise DeviceUnavailable(f"{device.name} gives no {device.kind.value} stream.")
    return player


class LocalMedia:
    """The local camera and microphone of one call, and the tracks that carry them."""

    def __init__(
        self,
        profile: CaptureProfile | None = None,
        opener: Callable[[MediaDevice, CaptureProfile], MediaPlayer] = open_player,
    ) -> None:
        self.profile = profile or CaptureProfile()
        self._opener = opener
        self._relay = MediaRelay()
        self.outgoing_video = SwitchableTrack("video")
        self.outgoing_audio = SwitchableTrack("audio")
        self.self_view = SwitchableTrack("video", restamp=False)
        self.camera: MediaDevice | None = None
        self.microphone: MediaDevice | None = None
        self._camera_player: MediaPlayer | None = None
        self._microphone_player: MediaPlayer | None = None
        self._screen: MediaStreamTrack | None = None
        self.muted = False
        self.camera_enabled = True

    @property
    def sharing_screen(self) -> bool:
        return self._screen is not None

    async def _open(self, device: MediaDevice) -> MediaPlayer:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._opener, device, self.profile)

    async def use_camera(self, device: MediaDevice) -> None:
        """Capture from `device` from now on (also mid-call); the old camera is closed after."""
        player = await self._open(device)
        old, self._camera_player = self._camera_player, player
        self.camera = device
        assert player.video is not None
        self.self_view.set_source(self._relay.subscribe(player.video, buffered=False))
        if self._screen is None:
            self.outgoing_video.set_source(self._relay.subscribe(player.video, buffered=False))
        _stop_player(old)
        log.info("camera: %s", device.name if not device.is_test_source else "test pattern")

    async def use_microphone(self, device: MediaDevice) -> None:
        player = await self._open(device)
        old, self._microphone_player = self._microphone_player, player
        self.microphone = device
        self.outgoing_audio.set_source(player.audio)
        _stop_player(old)
        log.info("microphone: %s", device.name if not device.is_test_source else "test tone")

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        self.outgoing_audio.enabled = not muted

    def set_camera_enabled(self, enabled: bool) -> None:
        self.camera_enabled = enabled
        self.outgoing_video.enabled = enabled
        self.self_view.enabled = enabled

    def share_screen(self, screen: MediaStreamTrack) -> None:
        """Send `screen` instead of the camera (the self-view keeps showing the camera)."""
        old, self._screen = self._screen, screen
        self.outgoing_video.set_source(screen)
        self.outgoing_video.enabled = True
        if old is not None:
            old.stop()

    def stop_screen_share(self) -> None:
        old, self._screen = self._screen, None
        player = self._camera_player
        source = None if player is None or player.video is None else player.video
        self.outgoing_video.set_source(
            None if source is None else self._relay.subscribe(source, buffered=False)
        )
        self.outgoing_video.enabled = self.camera_enabled
        if old is not None:
            old.stop()

    def close(self) -> None:
        for track in (self.outgoing_video, self.outgoing_audio, self.self_view, self._screen):
            if track is not None:
                track.stop()
        _stop_player(self._camera_player)
        _stop_player(self._microphone_player)
        self._camera_player = self._microphone_player = self._screen = None


def _stop_player(player: MediaPlayer | None) -> None:
    if player is None:
        return
    for track in (player.audio, player.video):
        if track is not None:
            track.stop()
