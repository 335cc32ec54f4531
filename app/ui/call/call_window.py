"""The call window: the patient large, yourself small, the controls and the chat of one call."""

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.media.call_state import CallState, EndReason
from app.media.stats import CallQuality, QualityLevel
from app.services.call_service import CallService
from app.ui.call.call_chat_panel import ChatPanel
from app.ui.call.call_quality_indicator import QualityIndicator
from app.ui.call.call_self_view import SelfView
from app.ui.call.video_widget import VideoWidget
from app.ui.common.window_placement import place_near_owner_when_shown
from shared.errors import KnownError

log = logging.getLogger("clinicdesk.ui")

MUTE_KEYS = QKeySequence("Ctrl+Shift+M")
CAMERA_KEYS = QKeySequence("Ctrl+Shift+O")
HANG_UP_KEYS = QKeySequence("Ctrl+Shift+H")
CHAT_KEYS = QKeySequence("Ctrl+Shift+C")

_HANG_UP_STYLE = (
    "QPushButton { background: #c62828; color: white; font-weight: bold; padding: 6px 18px; "
    "border-radius: 4px; } QPushButton:disabled { background: #b0b0b0; }"
)
_TEST_BADGE_STYLE = ("background: #8a1c12; color: white; font-weight: bold; padding: 2px 8px; "
                     "border-radius: 3px;")
_NOTICE_STYLE = {
    "info": "background: #e8f1fb; color: #1e4f8a; border: 1px solid #1e4f8a; padding: 6px;",
    "warning": "background: #fff4e0; color: #7a4b00; border: 1px solid #7a4b00; padding: 6px;",
    "error": "background: #fdecea; color: #8a1c12; border: 1px solid #8a1c12; padding: 6px;",
}


def format_elapsed(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class CallWindow(QWidget):
    """Built over a CallService; shows what it signals and calls it for every control."""

    def __init__(
        self,
        service: CallService,
        patient_name: str,
        audio_only: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.service = service
        self.audio_only = audio_only
        #: Offer "Create related task…" when the call ends (set by whoever can create tasks).
        self.offers_follow_up = False
        self._tasks: set[asyncio.Task[Any]] = set()
        kind = "Phone call" if audio_only else "Video call"
        self.setWindowTitle(f"{kind} with {patient_name} — Clinic Desk")
        self.resize(1024, 700)
        place_near_owner_when_shown(self)

        self.name_label = QLabel(f"<b>{patient_name}</b>", self)
        self.name_label.setStyleSheet("font-size: 15pt;")
        self.state_label = QLabel("Calling…", self)
        self.timer_label = QLabel("00:00", self)
        self.timer_label.setAccessibleName("Call duration")
        self.timer_label.setStyleSheet("font-size: 13pt;")
        self.quality = QualityIndicator(self)
        header = QHBoxLayout()
        header.addWidget(self.name_label)
        header.addSpacing(12)
        header.addWidget(self.state_label)
        header.addStretch(1)
        header.addWidget(self.quality)
        header.addSpacing(16)
        header.addWidget(self.timer_label)

        self.notice = QLabel(self)
        self.notice.setWordWrap(True)
        self.notice.hide()
        #: What goes to the patient, always in view: the camera and microphone by name, or a
        #: badge when a test source stands in for one.
        self.sending_label = QLabel(self)
        self.sending_label.setWordWrap(True)
        self.sending_label.setAccessibleName("What you are sending")
        self.test_badge = QLabel("TEST PATTERN", self)
        self.test_badge.setStyleSheet(_TEST_BADGE_STYLE)
        self.test_badge.setToolTip("A test source stands in for a camera or microphone: turned "
                                   "on by your IT department or the demo.")
        self.test_badge.hide()
        sending = QHBoxLayout()
        sending.addWidget(self.test_badge)
        sending.addWidget(self.sending_label, 1)

        waiting = (f"Phone call with {patient_name}" if audio_only
                   else f"Waiting for {patient_name}'s video…")
        self.remote_view = VideoWidget(waiting, self)
        self.remote_view.setAccessibleName(f"{patient_name}'s video")
        self.self_view = SelfView(self.remote_view)
        self.self_view.setVisible(not audio_only)
        self.remote_view.installEventFilter(self)
        self.chat = ChatPanel(patient_name, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.remote_view)
        self.splitter.addWidget(self.chat)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([760, 260])
        self.splitter.setChildrenCollapsible(False)

        self.mute_button = self._toggle("Mute", f"Mute your microphone ({_text(MUTE_KEYS)})")
        self.camera_button = self._toggle(
            "Stop camera", f"Turn your camera off ({_text(CAMERA_KEYS)})")
        self.share_button = self._toggle("Share screen", "Send your screen instead of your camera")
        self.devices_button = QPushButton("Devices", self)
        self.devices_button.setToolTip("Choose camera, microphone and speaker")
        self.devices_menu = QMenu(self.devices_button)
        self.devices_menu.aboutToShow.connect(self._on_devices_menu_shown)
        self.devices_button.setMenu(self.devices_menu)
        self.chat_button = self._toggle("Chat", f"Show or hide the chat ({_text(CHAT_KEYS)})")
        self.chat_button.setChecked(True)
        #: Shown once the call has ended: the follow-up task for this consultation.
        self.follow_up_button = QPushButton("Create related task…", self)
        self.follow_up_button.setToolTip("A follow-up for this consultation (who, by when, what)")
        self.follow_up_button.hide()
        self.hang_up_button = QPushButton("Hang up", self)
        self.hang_up_button.setToolTip(f"End the call ({_text(HANG_UP_KEYS)})")
        self.hang_up_button.setStyleSheet(_HANG_UP_STYLE)
        for button in (self.camera_button, self.share_button):
            button.setVisible(not audio_only)
        controls = QHBoxLayout()
        for button in (self.mute_button, self.camera_button, self.share_button,
                       self.devices_button, self.chat_button):
            controls.addWidget(button)
        controls.addStretch(1)
        controls.addWidget(self.follow_up_button)
        controls.addWidget(self.hang_up_button)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(sending)
        layout.addWidget(self.notice)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(controls)

        self.mute_button.toggled.connect(self._on_mute_toggled)
        self.camera_button.toggled.connect(self._on_camera_toggled)
        self.share_button.toggled.connect(self._on_share_toggled)
        self.chat_button.toggled.connect(self.chat.setVisible)
        self.hang_up_button.clicked.connect(self._on_hang_up_clicked)
        self.chat.sendRequested.connect(self._on_chat_send)
        for keys, slot in ((MUTE_KEYS, self.mute_button.toggle),
                           (CAMERA_KEYS, self.camera_button.toggle),
                           (HANG_UP_KEYS, self._on_hang_up_clicked),
                           (CHAT_KEYS, self.chat_button.toggle)):
            shortcut = QShortcut(keys, self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

        service.stateChanged.connect(self._on_state)
        service.ended.connect(self._on_ended)
        service.remoteFrame.connect(self.remote_view.show_image)
        service.selfFrame.connect(self.self_view.show_image)
        service.chatReceived.connect(self.chat.add_received)
        service.qualityChanged.connect(self._on_quality)
        service.mutedChanged.connect(self._on_muted)
        service.cameraChanged.connect(self._on_camera)
        service.screenShareChanged.connect(self._on_screen_share)
        service.devicesChanged.connect(self._on_devices_changed)
        service.sendingChanged.connect(self._on_sending)
        self.remote_view.resized.connect(service.set_remote_view_size)
        self.self_view.resized.connect(service.set_self_view_size)

        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self.update_timer)
        self._clock.start()
        self._on_state(service.state.value)
        self._on_sending(*service.sending())

    def _toggle(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setCheckable(True)
        button.setToolTip(tip)
        return button

    # -- what the service says -----------------------------------------------------------------

    @Slot(str)
    def _on_state(self, value: str) -> None:
        state = CallState(value)
        texts = {
            CallState.IDLE: "Calling…",
            CallState.CONNECTING: "Calling…",
            CallState.CONNECTED: "Connected",
            CallState.RECONNECTING: "Reconnecting…",
            CallState.ENDED: "Call ended",
        }
        self.state_label.setText(texts[state])
        if state is CallState.RECONNECTING:
            self._show_notice("warning", "The connection was interrupted. Reconnecting…")
            self.quality.show_quality(None)
        elif state is CallState.CONNECTED:
            self.notice.hide()
        self.update_timer()

    @Slot(str)
    def _on_ended(self, reason: str) -> None:
        normal = self.service.end_reason in (EndReason.HUNG_UP, EndReason.REMOTE_HUNG_UP)
        self._show_notice("info" if normal else "error", f"Call ended. {reason}")
        self.quality.hide()
        for button in (self.mute_button, self.camera_button, self.share_button,
                       self.devices_button, self.chat.send_button):
            button.setEnabled(False)
        self.chat.entry.setEnabled(False)
        self.hang_up_button.setEnabled(True)
        self.hang_up_button.setText("Close")
        self.hang_up_button.setToolTip("Close this window")
        self.remote_view.show_text("The call has ended.")
        self.self_view.hide()
        if self.offers_follow_up:
            self.follow_up_button.show()
            self.follow_up_button.setFocus()
        self._clock.stop()
        self.update_timer()

    @Slot(object)
    def _on_quality(self, quality: CallQuality) -> None:
        self.quality.show_quality(quality)
        if quality.level is QualityLevel.POOR and self.service.state is CallState.CONNECTED:
            self._show_notice("warning", "Poor connection: video may freeze or audio break up.")
        elif self.service.state is CallState.CONNECTED and self.notice.isVisible():
            self.notice.hide()

    @Slot(bool)
    def _on_muted(self, muted: bool) -> None:
        self._set_checked(self.mute_button, muted)
        self.mute_button.setText("Unmute" if muted else "Mute")

    @Slot(bool)
    def _on_camera(self, enabled: bool) -> None:
        self._set_checked(self.camera_button, not enabled)
        self.camera_button.setText("Start camera" if not enabled else "Stop camera")
        if not enabled:
            self.self_view.show_text("Camera off")

    @Slot(str, str)
    def _on_sending(self, text: str, test_badge: str) -> None:
        self.sending_label.setText(text)
        self.test_badge.setText(test_badge)
        self.test_badge.setVisible(bool(test_badge))
        if self.service.media is not None and not self.audio_only \
                and not self.service.sends_video:
            self.self_view.show_text("No camera")
            for button in (self.camera_button, self.share_button):
                button.setEnabled(False)
                button.setToolTip("No camera was found when the call started.")

    @Slot(bool)
    def _on_screen_share(self, sharing: bool) -> None:
        self._set_checked(self.share_button, sharing)
        self.share_button.setText("Stop sharing" if sharing else "Share screen")

    @Slot()
    def update_timer(self) -> None:
        service = self.service
        if service.connected_at is None:
            self.timer_label.setText("00:00")
            return
        self.timer_label.setText(format_elapsed(time.monotonic() - service.connected_at))

    # -- what the user does --------------------------------------------------------------------

    @Slot(bool)
    def _on_mute_toggled(self, checked: bool) -> None:
        self.service.set_muted(checked)
        self._on_muted(self.service.muted if self.service.media is not None else checked)

    @Slot(bool)
    def _on_camera_toggled(self, checked: bool) -> None:
        self.service.set_camera_enabled(not checked)
        self._on_camera(not checked)

    @Slot(bool)
    def _on_share_toggled(self, checked: bool) -> None:
        self._run(self.service.set_screen_share(checked))

    @Slot()
    def _on_hang_up_clicked(self) -> None:
        if self.service.in_call:
            self.hang_up_button.setEnabled(False)
            self._run(self.service.hang_up())
        else:
            self.close()

    @Slot(str)
    def _on_chat_send(self, text: str) -> None:
        if self.service.send_chat(text):
            self.chat.add_own(text)
        else:
            self.chat.not_sent()

    @Slot()
    def _on_devices_menu_shown(self) -> None:
        self._fill_devices_menu()
        self._run(self.service.refresh_devices())  # a camera plugged in since: listed when found

    @Slot()
    def _on_devices_changed(self) -> None:
        if self.devices_menu.isVisible():
            self._fill_devices_menu()

    @Slot()
    def _fill_devices_menu(self) -> None:
        menu = self.devices_menu
        menu.clear()
        for old_group in menu.findChildren(QActionGroup):
            old_group.deleteLater()
        service = self.service
        media = service.media
        microphone = media.microphone if media is not None else None
        camera = media.camera if media is not None else None
        sections: list[tuple[str, list[tuple[str, str]], str | None, str]] = [
            ("Microphone", [(d.id, d.name) for d in service.microphones()],
             microphone.id if microphone else service.remembered("microphone"),
             "microphone"),
            ("Speaker", service.speakers(), service.remembered("speaker"), "speaker"),
        ]
        if not self.audio_only:
            sections.insert(0, (
                "Camera", [(d.id, d.name) for d in service.cameras()],
                camera.id if camera else service.remembered("camera"),
                "camera"))
        for title, entries, current, kind in sections:
            menu.addSection(title)
            if not entries:
                none = menu.addAction(f"No {title.lower()} found")
                none.setEnabled(False)
                continue
            group = QActionGroup(menu)
            for device_id, name in entries:
                action = QAction(name, menu)
                action.setCheckable(True)
                action.setChecked(device_id == current)
                action.setData((kind, device_id))
                group.addAction(action)
                menu.addAction(action)
            group.triggered.connect(self._on_device_chosen)

    @Slot(QAction)
    def _on_device_chosen(self, action: QAction) -> None:
        kind, device_id = action.data()
        if kind == "camera":
            self._run(self.service.use_camera(device_id))
        elif kind == "microphone":
            self._run(self.service.use_microphone(device_id))
        else:
            self.service.use_speaker(device_id)

    # -- plumbing ------------------------------------------------------------------------------

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, KnownError):
            self._show_notice("warning", str(error))
        elif error is not None:
            raise error  # to the loop's exception handler (the crash handler)

    def _show_notice(self, level: str, text: str) -> None:
        self.notice.setStyleSheet(_NOTICE_STYLE[level])
        self.notice.setText(text)
        self.notice.show()

    @staticmethod
    def _set_checked(button: QPushButton, checked: bool) -> None:
        if button.isChecked() != checked:
            button.blockSignals(True)
            button.setChecked(checked)
            button.blockSignals(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.remote_view and event.type() is QEvent.Type.Resize:
            self.self_view.place()
        return super().eventFilter(watched, event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.service.in_call and _loop_running():
            self._run(self.service.hang_up())
        self._clock.stop()
        super().closeEvent(event)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _text(keys: QKeySequence) -> str:
    return keys.toString(QKeySequence.SequenceFormat.NativeText)
