"""The call window over a real CallService, calling an in-process patient peer on loopback."""

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.media.call_session import CallRole
from app.media.call_state import CallState, EndReason
from app.media.capture import CaptureProfile
from app.media.devices import DeviceKind, MediaDevice
from app.media.signalling import InMemorySignalling
from app.media.stats import QualityLevel
from app.policy.machine_policy import MachinePolicy
from app.services import call_service as call_service_module
from app.services.call_audio_output import AudioOutput
from app.services.call_service import CallConfig, CallService
from app.services.settings_service import SettingsService
from app.ui.call.call_window import CallWindow, format_elapsed
from app.ui.settings.settings_dialog import SettingsDialog
from shared.errors import KnownError
from tests.media_peers import Peer, drained, drop_network, quick_options
from tests.polling import eventually
from tests.turn_server import turn_server
from tests.window_helpers import assert_placed_over, shown_owner

PATIENT = "Alice Example"


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    event_loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.run_until_complete(asyncio.sleep(0.05))  # let closing transports finish
    event_loop.close()  # joins its executor's threads (else the process never exits)
    asyncio.set_event_loop(None)


@pytest.fixture
def service(loop: qasync.QEventLoop, tmp_path: Path) -> Iterator[CallService]:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    # This machine has no camera or microphone: the test sources stand in (as IT may allow).
    config = CallConfig(options=quick_options(), profile=CaptureProfile(320, 240, 30),
                        qt_screen_grab=True, allow_test_sources=True)
    call_service = CallService(config, settings)
    yield call_service
    if call_service.in_call:  # a failed test: end the call on the loop first
        loop.run_until_complete(asyncio.wait_for(call_service.hang_up(), 10))
    call_service.close()
    call_service.deleteLater()


def run(loop: qasync.QEventLoop, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop.run_until_complete(asyncio.wait_for(scenario(), 60))


def save(window: CallWindow, folder: Path | None, name: str) -> None:
    if folder is not None:
        window.grab().save(str(folder / name))


def window_and_patient(
    qtbot: Any, service: CallService
) -> tuple[CallWindow, InMemorySignalling, Peer]:
    """The call window shown, our end of the signalling, and the patient peer (not started)."""
    window = CallWindow(service, PATIENT)
    qtbot.addWidget(window)
    window.show()
    ours, theirs = InMemorySignalling.pair()
    return window, ours, Peer(theirs, CallRole.CALLEE, quick_options())


def press(window: CallWindow, key: Qt.Key) -> None:
    QTest.keyClick(window, key,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def test_a_video_call_in_the_window(
    qtbot: Any, loop: qasync.QEventLoop, service: CallService, screenshot_dir: Path | None
) -> None:
    window = CallWindow(service, PATIENT)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    ours, theirs = InMemorySignalling.pair()
    patient = Peer(theirs, CallRole.CALLEE, quick_options(), size="640x480")

    async def scenario() -> None:
        await patient.session.start()
        await service.start_call(ours, PATIENT)
        await eventually(lambda: service.state is CallState.CONNECTED)
        assert window.state_label.text() == "Connected"
        # What goes to the patient is in view, and a test source is badged.
        assert window.test_badge.isVisible()
        assert window.test_badge.text() == "TEST PATTERN + TEST TONE"
        assert "TEST PATTERN" in window.sending_label.text()
        assert "TEST TONE" in window.sending_label.text()
        await eventually(lambda: window.remote_view.has_image and window.self_view.has_image)
        await eventually(lambda: window.quality.level is not QualityLevel.UNKNOWN)
        assert "round trip" in window.quality.toolTip()
        # frames arrive at the size of the widget, converted off the GUI thread
        await eventually(lambda: window.remote_view.frames_painted > 5)
        assert service.first_remote_frame_at is not None and service.started_at is not None
        assert service.first_remote_frame_at - service.started_at < 2.0

        # the timer counts from the connection
        assert service.connected_at is not None
        service.connected_at = time.monotonic() - 65.2  # not "now - 65": a busy machine lags
        window.update_timer()
        assert window.timer_label.text() == "01:05"

        # chat both ways
        qtbot.keyClicks(window.chat.entry, "Hello Alice")
        qtbot.keyClick(window.chat.entry, Qt.Key.Key_Return)
        await asyncio.wait_for(patient.listener.chat_arrived.wait(), 5)
        assert patient.listener.chat == ["Hello Alice"]
        assert patient.session.send_chat("Hello doctor")
        await eventually(lambda: any("Hello doctor" in m for m in window.chat.messages()))
        save(window, screenshot_dir, "call-window-video.png")

        # shortcuts: mute, camera off, then both back
        received = patient.listener.received
        press(window, Qt.Key.Key_M)
        assert service.muted and window.mute_button.isChecked()
        assert window.mute_button.text() == "Unmute"
        press(window, Qt.Key.Key_O)
        assert not service.camera_enabled and window.camera_button.text() == "Start camera"
        assert window.self_view.placeholder == "Camera off"
        await drained(received)
        loud, frames = received.loud_audio_frames, received.video_frames
        count = received.audio_frames
        await eventually(lambda: received.audio_frames > count + 20)
        assert received.loud_audio_frames == loud and received.video_frames <= frames + 1
        save(window, screenshot_dir, "call-window-muted-camera-off.png")
        window.mute_button.click()
        window.camera_button.click()
        assert not service.muted and service.camera_enabled
        await eventually(lambda: received.loud_audio_frames > loud + 5)
        await eventually(lambda: received.video_frames > frames + 5)

        # screen sharing: the patient sees the screen (Qt's grab offscreen) instead of the camera
        window.share_button.click()
        await eventually(lambda: service.sharing_screen)
        await eventually(lambda: received.last_video is not None
                         and received.last_video.width == 800)  # the offscreen screen
        assert window.share_button.text() == "Stop sharing"
        window.share_button.click()
        await eventually(lambda: received.last_video is not None
                         and received.last_video.width == 320)  # the camera again

        # hang up from the keyboard: both sides end
        press(window, Qt.Key.Key_H)
        await asyncio.wait_for(patient.session.wait_ended(), 5)
        await eventually(lambda: service.state is CallState.ENDED)
        assert patient.session.end_reason is EndReason.REMOTE_HUNG_UP
        assert window.state_label.text() == "Call ended"
        assert window.hang_up_button.text() == "Close" and window.hang_up_button.isEnabled()
        assert not window.mute_button.isEnabled()
        assert service.media is None
        save(window, screenshot_dir, "call-window-ended.png")
        await patient.close()

    run(loop, scenario)


def test_the_window_shows_reconnecting_then_a_clean_end(
    qtbot: Any, loop: qasync.QEventLoop, service: CallService, screenshot_dir: Path | None
) -> None:
    window, ours, patient = window_and_patient(qtbot, service)
    ended: list[str] = []
    service.ended.connect(ended.append)

    async def scenario() -> None:
        await patient.session.start()
        await service.start_call(ours, PATIENT)
        await eventually(lambda: window.remote_view.has_image)
        patient.signalling.cut = True
        await drop_network(patient)
        await eventually(lambda: service.state is CallState.RECONNECTING)
        assert window.state_label.text() == "Reconnecting…"
        assert window.notice.isVisible() and "Reconnecting" in window.notice.text()
        save(window, screenshot_dir, "call-window-reconnecting.png")
        await eventually(lambda: service.state is CallState.ENDED, timeout=15)
        assert ended == [EndReason.CONNECTION_LOST.value]
        assert "could not be restored" in window.notice.text()
        await patient.close()

    run(loop, scenario)


def test_a_relay_that_refuses_the_call_is_explained_in_the_window(
    qtbot: Any, loop: qasync.QEventLoop, service: CallService, screenshot_dir: Path | None
) -> None:
    """The server requires the relay and coturn refuses the call's (forged) credentials."""
    window, ours, patient = window_and_patient(qtbot, service)

    async def scenario() -> None:
        with turn_server() as turn:
            await patient.session.start()
            await service.start_call(ours, PATIENT, ice_servers=[turn.server(secret="forged")],
                                     relay_only=True)
            await eventually(lambda: service.state is CallState.ENDED)
        assert service.end_reason is EndReason.RELAY_REFUSED
        assert window.notice.isVisible()
        assert "relay server (TURN) refused this call's credentials" in window.notice.text()
        assert "ask IT to check the TURN settings" in window.notice.text()
        await eventually(lambda: patient.session.state is CallState.ENDED)
        save(window, screenshot_dir, "call-window-relay-refused.png")
        await patient.close()
        # The next call is decided again: the server's relay rule was for that call only.
        assert not service.config.options.ice.relay_only

    run(loop, scenario)


def test_a_phone_call_window_has_no_video_controls(
    qtbot: Any, loop: qasync.QEventLoop, service: CallService, screenshot_dir: Path | None
) -> None:
    window = CallWindow(service, PATIENT, audio_only=True)
    qtbot.addWidget(window)
    window.show()
    ours, theirs = InMemorySignalling.pair()
    patient = Peer(theirs, CallRole.CALLEE, quick_options(audio_only=True))

    async def scenario() -> None:
        await patient.session.start()
        await service.start_call(ours, PATIENT, audio_only=True)
        await eventually(lambda: service.state is CallState.CONNECTED)
        await eventually(lambda: patient.listener.received.loud_audio_frames > 5)
        assert not window.camera_button.isVisible() and not window.share_button.isVisible()
        assert not window.self_view.isVisible()
        assert window.remote_view.placeholder == f"Phone call with {PATIENT}"
        window._fill_devices_menu()
        names = [a.text() for a in window.devices_menu.actions()]
        assert "Test tone" in names and "Test pattern" not in names
        assert "No speaker found" in names  # no sound system here: said, not a crash
        refreshed: list[bool] = []
        service.devicesChanged.connect(lambda: refreshed.append(True))
        window.devices_menu.aboutToShow.emit()  # opening the menu looks for new devices
        await eventually(lambda: bool(refreshed))
        save(window, screenshot_dir, "call-window-phone.png")
        window.hang_up_button.click()
        await asyncio.wait_for(patient.session.wait_ended(), 5)
        await patient.close()

    run(loop, scenario)


def _devices(cameras: list[MediaDevice], microphones: list[MediaDevice]) -> Callable[..., Any]:
    """This machine's devices as the test says (the edge of the world: real hardware)."""
    def listed(kind: DeviceKind, include_test_sources: bool = True) -> list[MediaDevice]:
        return list(cameras if kind is DeviceKind.CAMERA else microphones)
    return listed


def test_no_microphone_is_said_before_anyone_is_called(
    loop: qasync.QEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(call_service_module, "list_devices", _devices([], []))
    settings = QSettings(str(tmp_path / "none.ini"), QSettings.Format.IniFormat)
    service = CallService(CallConfig(options=quick_options()), settings)  # no test sources
    ours, theirs = InMemorySignalling.pair()

    async def scenario() -> None:
        with pytest.raises(KnownError, match="No microphone was found"):
            await service.start_call(ours, PATIENT)
        assert not service.in_call and service.session is None
        assert theirs._inbox.empty()  # no offer went to the patient

    try:
        run(loop, scenario)
    finally:
        service.close()
        service.deleteLater()


def test_no_camera_means_no_video_track_and_the_window_says_so(
    qtbot: Any, loop: qasync.QEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    screenshot_dir: Path | None,
) -> None:
    headset = MediaDevice(DeviceKind.MICROPHONE, "test-headset", "USB headset",
                          "sine=frequency=440", "lavfi")
    monkeypatch.setattr(call_service_module, "list_devices", _devices([], [headset]))
    settings = QSettings(str(tmp_path / "nocam.ini"), QSettings.Format.IniFormat)
    service = CallService(CallConfig(options=quick_options()), settings)
    window = CallWindow(service, PATIENT)
    qtbot.addWidget(window)
    window.show()
    ours, theirs = InMemorySignalling.pair()
    patient = Peer(theirs, CallRole.CALLEE, quick_options())

    async def scenario() -> None:
        await patient.session.start()
        await service.start_call(ours, PATIENT)
        await eventually(lambda: service.state is CallState.CONNECTED)
        await eventually(lambda: patient.listener.received.loud_audio_frames > 10)
        # The patient gets sound and no video at all (not black frames, not a test pattern);
        # the clinician still sees the patient.
        assert patient.listener.received.video_frames == 0
        await eventually(lambda: window.remote_view.has_image)
        assert "no camera found" in window.sending_label.text()
        assert window.test_badge.text() == "TEST TONE"  # the stand-in microphone is a test source
        assert window.self_view.placeholder == "No camera"
        assert not window.camera_button.isEnabled() and not window.share_button.isEnabled()
        save(window, screenshot_dir, "call-window-no-camera.png")
        window.hang_up_button.click()
        await asyncio.wait_for(patient.session.wait_ended(), 5)
        await patient.close()

    try:
        run(loop, scenario)
    finally:
        service.close()
        service.deleteLater()


def test_device_choice_is_remembered(
    loop: qasync.QEventLoop, service: CallService
) -> None:
    async def scenario() -> None:
        await service.refresh_devices()
        camera = service.cameras()[-1]
        await service.use_camera(camera.id)
        await service.use_microphone(service.microphones()[-1].id)
        assert service.remembered("camera") == camera.id
        assert service.remembered("microphone") == "test-tone"

    run(loop, scenario)


def test_audio_output_degrades_without_a_sound_system(qapp: QApplication) -> None:
    output = AudioOutput()
    assert AudioOutput.outputs() == []
    assert output.start() is False
    output.write(b"\0" * 3840)  # dropped, no crash
    assert not output.playing
    output.deleteLater()


def test_elapsed_time_format() -> None:
    assert format_elapsed(0) == "00:00"
    assert format_elapsed(65.7) == "01:05"
    assert format_elapsed(3600 + 62) == "1:01:02"


def test_settings_give_the_call_config() -> None:
    config = CallConfig.from_settings(
        {"ice_interfaces": ["lo"], "turn_servers": ["turns:127.0.0.1:5349"],
         "allow_test_pattern": False, "relay_only": True},
        options=quick_options(),
    )
    assert config.options.ice.interfaces == ("lo",)
    assert [s.urls for s in config.options.ice.servers] == [("turns:127.0.0.1:5349",)]
    assert config.options.ice.relay_only  # the machine policy's relay rule
    assert not config.allow_test_sources
    assert not CallConfig.from_settings({}).allow_test_sources  # off unless turned on
    assert CallConfig.from_settings({"allow_test_pattern": True}).allow_test_sources
    assert CallConfig.from_settings({}, demo=True).allow_test_sources
    assert config.options.stall_timeout == quick_options().stall_timeout


def test_one_service_calls_twice_and_switches_camera_from_the_menu(
    qtbot: Any, loop: qasync.QEventLoop, service: CallService
) -> None:
    async def call_once(name: str) -> None:
        window = CallWindow(service, name)
        qtbot.addWidget(window)
        window.show()
        ours, theirs = InMemorySignalling.pair()
        patient = Peer(theirs, CallRole.CALLEE, quick_options())
        await patient.session.start()
        await service.start_call(ours, name)
        with pytest.raises(KnownError, match="already in progress"):
            await service.start_call(ours, name)
        await eventually(lambda: window.remote_view.has_image)
        received = patient.listener.received
        await eventually(lambda: received.last_video is not None)
        # the Devices menu lists the cameras; choosing one switches mid-call and is remembered
        window._fill_devices_menu()
        pattern = next(a for a in window.devices_menu.actions() if a.text() == "Test pattern")
        assert pattern.isChecked()
        pattern.trigger()
        await eventually(lambda: service.remembered("camera") == "test-pattern")
        frames = received.video_frames
        await eventually(lambda: received.video_frames > frames + 5)
        await service.hang_up()
        await asyncio.wait_for(patient.session.wait_ended(), 5)
        await patient.close()

    async def scenario() -> None:
        await call_once(PATIENT)
        assert service.state is CallState.ENDED and service.media is None
        await call_once("Bob Second")
        assert service.end_reason is EndReason.HUNG_UP

    run(loop, scenario)


def test_settings_list_the_devices_and_remember_the_choice(
    loop: qasync.QEventLoop, service: CallService, qtbot: QtBot, tmp_path: Path,
    screenshot_dir: Path | None,
) -> None:
    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    policy = MachinePolicy(values={}, location="")
    dialog = SettingsDialog(SettingsService(policy, settings), calls=service)
    qtbot.addWidget(dialog)
    devices = dialog.devices
    assert devices is not None

    async def listed() -> None:
        camera = devices.combos["camera"]
        await eventually(lambda: camera.findText("Test pattern", Qt.MatchFlag.MatchContains) >= 0,
                         what="the test pattern among the cameras")

    run(loop, listed)  # the lists come from a device scan off the GUI thread
    microphones = devices.combos["microphone"]
    assert microphones.count() >= 1 and microphones.currentData()
    camera = devices.combos["camera"]
    camera.setCurrentIndex(camera.findText("Test pattern", Qt.MatchFlag.MatchContains))
    if screenshot_dir is not None:
        dialog.grab().save(str(screenshot_dir / "settings-devices.png"))
    dialog._save()  # noqa: SLF001 - the Save button's slot
    assert service.remembered("camera") == camera.currentData()


def test_the_call_window_fits_the_screen_over_its_owner(
    qtbot: QtBot, service: CallService
) -> None:
    owner = shown_owner(qtbot, QRect(500, 420, 260, 300))
    window = CallWindow(service, PATIENT, False, owner)
    # Its usual 1024 x 700 is wider than this 800 px screen: sized down, nothing off screen.
    assert_placed_over(qtbot, window, owner)
    assert window.width() < 1024
    window.close()
