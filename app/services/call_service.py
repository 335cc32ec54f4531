"""The call as the UI sees it: a QObject over app.media's CallSession, capture and playback.

It turns the Qt-free session's events into Qt signals (state, images, chat, quality), opens the
remembered devices, and offers the controls of the call window. One call at a time.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import shiboken6
from aiortc import MediaStreamTrack
from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QImage

from app.media.audio_output import PcmPump
from app.media.call_listener import CallListener
from app.media.call_options import CallOptions
from app.media.call_session import CallRole, CallSession
from app.media.call_state import CallState, EndReason
from app.media.capture import CaptureProfile, LocalMedia, open_player
from app.media.devices import DeviceKind, MediaDevice, choose, list_devices
from app.media.frames import PIXEL_FORMAT, FrameSink, PaintableImage
from app.media.ice_config import IcePolicy, IceServer
from app.media.malloc_tuning import limit_malloc_arenas, release_free_memory
from app.media.screen_share import screen_device
from app.media.signalling import Signalling
from app.media.stats import CallQuality
from app.services.call_audio_output import AudioOutput
from app.services.call_screen_grab import ScreenGrabber
from app.services.message_bridge import MessageBridge
from shared.errors import KnownError

log = logging.getLogger("clinicdesk.media")

#: The call's STUN/TURN servers from the server, minted now, and whether it requires the relay
#: (the API client's `call_ice` for one appointment).
CallIceSource = Callable[[], Awaitable[tuple[Sequence[IceServer], bool]]]

#: Where the chosen devices are remembered (QSettings).
DEVICES_GROUP = "devices"
TRIM_INTERVAL_MS = 10_000
TRIM_AFTER_CALL_MS = 2_000
NO_MICROPHONE = ("No microphone was found on this computer, so the patient has not been called. "
                 "Plug in a headset or microphone (or choose one in Settings → Devices) and "
                 "call again.")
NO_CAMERA = ("No camera was found: the call goes on without video. The patient hears you and "
             "sees your name.")
_QT_FORMAT = (QImage.Format.Format_RGB32 if PIXEL_FORMAT == "bgra"
              else QImage.Format.Format_ARGB32)


@dataclass(frozen=True, slots=True)
class CallConfig:
    """What a call needs from the settings and the server."""

    options: CallOptions = field(default_factory=CallOptions)
    profile: CaptureProfile = field(default_factory=CaptureProfile)
    #: The test pattern and tone stand in for a missing camera or microphone: only when IT
    #: (allow_test_pattern) or the demo turns them on, never silently to a real patient.
    allow_test_sources: bool = False
    #: Screen sharing through Qt's grab even where PyAV has a grabber (tests, Wayland).
    qt_screen_grab: bool = False

    @classmethod
    def from_settings(
        cls, values: Mapping[str, Any], ice_servers: Sequence[IceServer] = (), *,
        demo: bool = False, **more: Any
    ) -> "CallConfig":
        """From the effective settings' values (ice_interfaces, turn_servers, relay_only,
        allow_test_pattern) and the STUN/TURN servers (with credentials) the server gave. The
        demo always allows the test sources."""
        servers = list(ice_servers)
        known = {url for server in servers for url in server.urls}
        servers += [IceServer((url,)) for url in values.get("turn_servers") or []
                    if url not in known]
        ice = IcePolicy(servers=tuple(servers),
                        interfaces=tuple(values.get("ice_interfaces") or ()),
                        relay_only=bool(values.get("relay_only", False)))
        options = more.pop("options", CallOptions())
        return cls(options=replace(options, ice=ice),
                   allow_test_sources=demo or bool(values.get("allow_test_pattern", False)),
                   **more)


    def with_servers(
        self, ice_servers: Sequence[IceServer], relay_only: bool = False
    ) -> "CallConfig":
        """This config with the call's STUN/TURN servers first (the settings' ones kept); relay
        only when the server or this machine's policy says so."""
        ice = self.options.ice.with_servers(ice_servers, relay_only)
        return replace(self, options=replace(self.options, ice=ice))


def qimage(image: PaintableImage) -> QImage:
    """A QImage over the converted bytes (it keeps them alive; no copy)."""
    return QImage(image.data, image.width, image.height, image.stride, _QT_FORMAT)


class _Forward(CallListener):
    """The session's listener; silent once the service's C++ object is gone (app shutdown)."""

    def __init__(self, service: "CallService") -> None:
        self._service = service

    def state_changed(self, state: CallState, reason: EndReason | None) -> None:
        if shiboken6.isValid(self._service):
            self._service._on_state(state, reason)

    def remote_track(self, track: MediaStreamTrack) -> None:
        if shiboken6.isValid(self._service):
            self._service._on_remote_track(track)

    def chat_received(self, text: str) -> None:
        if shiboken6.isValid(self._service):
            self._service.chatReceived.emit(text)

    def quality_changed(self, quality: CallQuality) -> None:
        if shiboken6.isValid(self._service):
            self._service._on_quality(quality)


class CallService(QObject):
    """Start, control and end the one call of this desktop."""

    #: CallState value ("connecting", "connected", "reconnecting", "ended").
    stateChanged = Signal(str)
    #: The sentence saying why the call ended.
    ended = Signal(str)
    remoteFrame = Signal(QImage)
    selfFrame = Signal(QImage)
    chatReceived = Signal(str)
    #: CallQuality
    qualityChanged = Signal(object)
    mutedChanged = Signal(bool)
    cameraChanged = Signal(bool)
    screenShareChanged = Signal(bool)
    devicesChanged = Signal()
    #: What this desktop sends now, in words, and the badge of the test sources among it
    #: ("TEST PATTERN", "TEST TONE", both, or "" when none).
    sendingChanged = Signal(str, str)

    def __init__(
        self,
        config: CallConfig,
        settings: QSettings,
        bridge: MessageBridge | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        limit_malloc_arenas()  # before the call's threads allocate frames
        self.config = config
        self._settings = settings
        self._bridge = bridge
        self.session: CallSession | None = None
        self.media: LocalMedia | None = None
        self.patient_name = ""
        self.audio_only = False
        self.state = CallState.IDLE
        self.end_reason: EndReason | None = None
        self.quality: CallQuality | None = None
        self.started_at: float | None = None
        self.connected_at: float | None = None
        self.first_remote_frame_at: float | None = None
        self._cameras: list[MediaDevice] = []
        self._microphones: list[MediaDevice] = []
        self._remote = FrameSink(self._show_remote, "remote")
        self._self_view = FrameSink(self._show_self, "self")
        self._pump = PcmPump(self._play)
        self.audio_output = AudioOutput(self)
        self._grabber: ScreenGrabber | None = None
        # Freed frame buffers stay resident (heap fragmentation) unless given back now and then.
        self._trim_timer = QTimer(self)
        self._trim_timer.setInterval(TRIM_INTERVAL_MS)
        self._trim_timer.timeout.connect(release_free_memory)

    # -- devices -------------------------------------------------------------------------------

    async def refresh_devices(self) -> None:
        loop = asyncio.get_running_loop()
        allow = self.config.allow_test_sources
        self._cameras = await loop.run_in_executor(None, list_devices, DeviceKind.CAMERA, allow)
        self._microphones = await loop.run_in_executor(
            None, list_devices, DeviceKind.MICROPHONE, allow)
        self.devicesChanged.emit()

    def cameras(self) -> list[MediaDevice]:
        return list(self._cameras)

    def microphones(self) -> list[MediaDevice]:
        return list(self._microphones)

    def speakers(self) -> list[tuple[str, str]]:
        return self.audio_output.outputs()

    def remembered(self, kind: str) -> str | None:
        value = self._settings.value(f"{DEVICES_GROUP}/{kind}")
        return str(value) if value else None

    def remember_device(self, kind: str, device_id: str | None) -> None:
        """Settings chose `device_id` ("camera", "microphone", "speaker") for the next call."""
        self._remember(kind, device_id)

    def _remember(self, kind: str, device_id: str | None) -> None:
        if device_id is None:
            self._settings.remove(f"{DEVICES_GROUP}/{kind}")
        else:
            self._settings.setValue(f"{DEVICES_GROUP}/{kind}", device_id)

    def _find(self, devices: list[MediaDevice], device_id: str) -> MediaDevice:
        for device in devices:
            if device.id == device_id:
                return device
        raise KnownError("That device is no longer connected.")

    async def open_local_media(self, audio_only: bool) -> LocalMedia:
        """The remembered microphone (and camera) opened for a call (1:1 or group).

        KnownError when no microphone can be opened; a camera that fails is only warned about.
        """
        if not self._microphones or (not audio_only and not self._cameras):
            await self.refresh_devices()
        media = LocalMedia(self.config.profile)
        try:
            microphone = choose(self._microphones, self.remembered("microphone"))
            if microphone is None:
                raise KnownError(NO_MICROPHONE)
            await media.use_microphone(microphone)
            if not audio_only:
                camera = choose(self._cameras, self.remembered("camera"))
                if camera is None:
                    self._warn(NO_CAMERA)
                else:
                    try:
                        await media.use_camera(camera)
                    except KnownError as error:
                        self._warn(f"{error} The call goes on without your camera.")
                        media.set_camera_enabled(False)
        except BaseException:
            media.close()
            raise
        return media

    # -- the call ------------------------------------------------------------------------------

    @property
    def in_call(self) -> bool:
        return self.state not in (CallState.IDLE, CallState.ENDED)

    async def start_call(
        self, signalling: Signalling, patient_name: str, audio_only: bool = False,
        ice_servers: Sequence[IceServer] = (), relay_only: bool = False,
        renew_ice: CallIceSource | None = None,
    ) -> None:
        """Open the devices and call the patient over `signalling` (the caller side), through
        this call's `ice_servers` (from the server: TURN credentials minted for it) first;
        `renew_ice` mints them again for each reconnection (the first ones may have expired).

        Raises KnownError if a call is already on or no microphone can be opened.
        """
        if self.in_call:
            raise KnownError("A call is already in progress.")
        self.started_at = time.monotonic()
        self.connected_at = self.first_remote_frame_at = None
        self.patient_name, self.audio_only = patient_name, audio_only
        self.end_reason, self.quality = None, None
        media = self.media = await self.open_local_media(audio_only)
        self.audio_output.start(self.remembered("speaker"))
        if not audio_only:
            self._self_view.attach(media.self_view)
        # This call's servers; the config itself keeps only what the settings say.
        config = self.config.with_servers(ice_servers, relay_only)
        options = replace(config.options, audio_only=audio_only)
        # No camera: no video track at all (the patient's page shows the clinician's name),
        # never a black or made-up picture. The patient's own video still comes in.
        self.session = CallSession(
            signalling, options, _Forward(self), role=CallRole.CALLER,
            audio=media.outgoing_audio, video=media.outgoing_video if self.sends_video else None,
            renew_ice=None if renew_ice is None else self._renewal(renew_ice),
        )
        await self.session.start()
        self._trim_timer.start()
        self.mutedChanged.emit(media.muted)
        self.cameraChanged.emit(media.camera_enabled and not audio_only)
        self._sending_changed()

    def _renewal(self, source: CallIceSource) -> Callable[[], Awaitable[IcePolicy]]:
        """The session's renewal: the server's fresh servers with this machine's own kept."""
        async def renewed() -> IcePolicy:
            servers, relay_only = await source()
            return self.config.with_servers(servers, relay_only).options.ice
        return renewed

    @property
    def sends_video(self) -> bool:
        """The call has a video track (a camera was found when it started)."""
        return self.media is not None and not self.audio_only and self.media.camera is not None

    def sending(self) -> tuple[str, str]:
        """What goes to the patient now, in words, and the badge naming the test sources
        among it ("" when none)."""
        media = self.media
        if media is None:
            return "", ""
        tests: list[str] = []
        if self.audio_only:
            video = ""
        elif media.sharing_screen:
            video = "your screen"
        elif media.camera is None:
            video = "no video (no camera found: the patient sees your name)"
        elif not media.camera_enabled:
            video = "no video (camera off)"
        elif media.camera.is_test_source:
            video = "a TEST PATTERN, not a camera"
            tests.append("TEST PATTERN")
        else:
            video = f"video from {media.camera.name}"
        if media.muted:
            sound = "no sound (muted)"
        elif media.microphone is not None and media.microphone.is_test_source:
            sound = "a TEST TONE, not a microphone"
            tests.append("TEST TONE")
        else:
            sound = f"sound from {media.microphone.name}" if media.microphone else "no sound"
        text = "Sending " + " and ".join(part for part in (video, sound) if part)
        return text, " + ".join(tests)

    def _sending_changed(self) -> None:
        self.sendingChanged.emit(*self.sending())

    async def hang_up(self) -> None:
        if self.session is not None:
            await self.session.hang_up()

    def set_muted(self, muted: bool) -> None:
        if self.media is not None and self.media.muted != muted:
            self.media.set_muted(muted)
            self.mutedChanged.emit(muted)
            self._sending_changed()

    def set_camera_enabled(self, enabled: bool) -> None:
        if self.media is None or self.audio_only or self.media.camera_enabled == enabled:
            return
        self.media.set_camera_enabled(enabled)
        self.cameraChanged.emit(enabled)
        self._sending_changed()

    @property
    def muted(self) -> bool:
        return self.media is not None and self.media.muted

    @property
    def camera_enabled(self) -> bool:
        return self.media is not None and self.media.camera_enabled and not self.audio_only

    @property
    def sharing_screen(self) -> bool:
        return self.media is not None and self.media.sharing_screen

    async def use_camera(self, device_id: str) -> None:
        """Switch camera (also mid-call) and remember it; KnownError if it cannot be opened."""
        device = self._find(self._cameras, device_id)
        if self.media is not None and not self.audio_only:
            await self.media.use_camera(device)
            self._sending_changed()
        self._remember("camera", device.id)

    async def use_microphone(self, device_id: str) -> None:
        device = self._find(self._microphones, device_id)
        if self.media is not None:
            await self.media.use_microphone(device)
            self._sending_changed()
        self._remember("microphone", device.id)

    def use_speaker(self, device_id: str | None) -> None:
        if self.in_call:
            self.audio_output.start(device_id)
        self._remember("speaker", device_id)

    async def set_screen_share(self, on: bool) -> None:
        media = self.media
        if media is None or not self.sends_video or on == media.sharing_screen:
            return
        if on:
            device = None if self.config.qt_screen_grab else screen_device()
            if device is not None:
                loop = asyncio.get_running_loop()
                player = await loop.run_in_executor(None, open_player, device, media.profile)
                assert player.video is not None
                media.share_screen(player.video)
            else:
                self._grabber = ScreenGrabber(self)
                self._grabber.start()
                media.share_screen(self._grabber.track)
        else:
            media.stop_screen_share()
            if self._grabber is not None:
                self._grabber.stop()
                self._grabber.deleteLater()
                self._grabber = None
        self.screenShareChanged.emit(on)
        self._sending_changed()

    def send_chat(self, text: str) -> bool:
        return self.session is not None and self.session.send_chat(text)

    def set_remote_view_size(self, width: int, height: int) -> None:
        self._remote.set_target_size(width, height)

    def set_self_view_size(self, width: int, height: int) -> None:
        self._self_view.set_target_size(width, height)

    @property
    def frames_shown(self) -> int:
        return self._remote.frames_shown

    def close(self) -> None:
        """Shut down (the application is quitting): ends a call without waiting."""
        if self.session is not None and self.in_call:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                log.warning("closing during a call with no running loop: not hung up")
            else:
                asyncio.ensure_future(self.session.hang_up())
        self._release()
        self._remote.close()
        self._self_view.close()

    # -- from the session ----------------------------------------------------------------------

    def _on_state(self, state: CallState, reason: EndReason | None) -> None:
        self.state = state
        if state is CallState.CONNECTED and self.connected_at is None:
            self.connected_at = time.monotonic()
        self.stateChanged.emit(state.value)
        if state is CallState.ENDED:
            self.end_reason = reason
            self._release()
            self.ended.emit(reason.value if reason is not None else EndReason.FAILED.value)

    def _on_remote_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self._remote.attach(track)
        elif track.kind == "audio":
            self._pump.attach(track)

    def _on_quality(self, quality: CallQuality) -> None:
        self.quality = quality
        self.qualityChanged.emit(quality)

    def _show_remote(self, image: PaintableImage) -> None:
        if self.first_remote_frame_at is None:
            self.first_remote_frame_at = time.monotonic()
        self.remoteFrame.emit(qimage(image))

    def _show_self(self, image: PaintableImage) -> None:
        self.selfFrame.emit(qimage(image))

    def _play(self, pcm: bytes) -> None:
        self.audio_output.write(pcm)

    def _release(self) -> None:
        self._trim_timer.stop()
        self._remote.detach()
        self._self_view.detach()
        self._pump.detach()
        self.audio_output.stop()
        if self._grabber is not None:
            self._grabber.stop()
            self._grabber.deleteLater()
            self._grabber = None
        if self.media is not None:
            self.media.close()
            self.media = None
        # Now, and again once the closed call's frames and codecs have actually been freed.
        release_free_memory()
        QTimer.singleShot(TRIM_AFTER_CALL_MS, self, release_free_memory)

    def _warn(self, text: str) -> None:
        log.warning(text)
        if self._bridge is not None:
            self._bridge.warning.emit(text)
