"""The phone call window: who is called and at which number, Dialling → Ringing → Connected with
the running timer (or the outcome in words), and the controls: mute, hold, the keypad, hang up."""

import asyncio
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent, QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.services.phone_call_service import STATE_WORDS, PhoneCallService
from app.ui.common.window_placement import place_near_owner_when_shown
from app.ui.phone_call.keypad import KEYS, Keypad

MUTE_KEYS = QKeySequence("Ctrl+Shift+M")
HOLD_KEYS = QKeySequence("Ctrl+Shift+L")
HANG_UP_KEYS = QKeySequence("Ctrl+Shift+H")

_HANG_UP_STYLE = (
    "QPushButton { background: #c62828; color: white; font-weight: bold; padding: 6px 18px; "
    "border-radius: 4px; } QPushButton:disabled { background: #b0b0b0; }"
)
_STATE_COLOURS = {"connected": "#1b6e20", "on_hold": "#7a4b00", "ended": "#8a1c12"}
_IN_CALL = ("connected", "on_hold")


def _text(keys: QKeySequence) -> str:
    return keys.toString(QKeySequence.SequenceFormat.NativeText)


class PhoneCallWindow(QWidget):
    """Built over a PhoneCallService; shows what it signals and calls it for every control."""

    def __init__(self, service: PhoneCallService, patient_name: str, number: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.service = service
        self._tasks: set[asyncio.Future[Any]] = set()
        self.setWindowTitle(f"Phone call — {patient_name}")
        self.setMinimumWidth(380)

        self.name_label = QLabel(patient_name, self)
        bigger = QFont(self.name_label.font())
        bigger.setPointSizeF(bigger.pointSizeF() * 1.4)
        bigger.setBold(True)
        self.name_label.setFont(bigger)
        self.name_label.setAccessibleName("Patient")
        self.number_label = QLabel(number, self)
        self.number_label.setAccessibleName("Number dialled")
        self.number_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state_label = QLabel(STATE_WORDS["dialling"], self)
        self.state_label.setFont(bigger)
        self.state_label.setAccessibleName("Call state")
        self.timer_label = QLabel("", self)
        self.timer_label.setFont(bigger)
        self.timer_label.setAccessibleName("Call duration")
        self.detail_label = QLabel("", self)
        self.detail_label.setWordWrap(True)
        self.detail_label.setAccessibleName("What happened")
        self.keypad = Keypad(self)
        self.mute_button = QPushButton("Mute", self)
        self.mute_button.setCheckable(True)
        self.mute_button.setAccessibleName("Mute microphone")
        self.mute_button.setToolTip(f"The phone hears nothing from you ({_text(MUTE_KEYS)})")
        self.hold_button = QPushButton("Hold", self)
        self.hold_button.setCheckable(True)
        self.hold_button.setAccessibleName("Hold the call")
        self.hold_button.setToolTip(f"Put the patient on hold, or resume ({_text(HOLD_KEYS)})")
        self.hang_up_button = QPushButton("Hang up", self)
        self.hang_up_button.setAccessibleName("Hang up")
        self.hang_up_button.setToolTip(f"End the call ({_text(HANG_UP_KEYS)})")
        self.hang_up_button.setStyleSheet(_HANG_UP_STYLE)

        state_row = QHBoxLayout()
        state_row.addWidget(self.state_label, 1)
        state_row.addWidget(self.timer_label)
        controls = QHBoxLayout()
        controls.addWidget(self.mute_button)
        controls.addWidget(self.hold_button)
        controls.addStretch(1)
        controls.addWidget(self.hang_up_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.name_label)
        layout.addWidget(self.number_label)
        layout.addSpacing(8)
        layout.addLayout(state_row)
        layout.addWidget(self.detail_label)
        layout.addSpacing(8)
        layout.addWidget(self.keypad)
        layout.addSpacing(8)
        layout.addLayout(controls)

        self.mute_button.toggled.connect(self._mute_toggled)
        self.hold_button.toggled.connect(self._hold_toggled)
        self.hang_up_button.clicked.connect(self._hang_up_clicked)
        self.keypad.pressed.connect(self._key_pressed)
        for keys, slot in ((MUTE_KEYS, self.mute_button.toggle),
                           (HOLD_KEYS, self._hold_shortcut),
                           (HANG_UP_KEYS, self._hang_up_clicked)):
            shortcut = QShortcut(keys, self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
        service.stateChanged.connect(self.show_state)
        service.timerTicked.connect(self.timer_label.setText)
        service.ended.connect(self.show_ended)
        service.mutedChanged.connect(self._muted_changed)
        service.notice.connect(self.detail_label.setText)
        self.show_state("dialling")
        place_near_owner_when_shown(self)

    # -- what the service says -----------------------------------------------------------------

    @Slot(str)
    def show_state(self, state: str) -> None:
        if state == "ended":
            return  # show_ended says how
        self.state_label.setText(STATE_WORDS.get(state, state))
        self.state_label.setStyleSheet(f"color: {_STATE_COLOURS.get(state, 'palette(text)')};")
        connected = state in _IN_CALL
        self.keypad.setEnabled(state == "connected")
        self.hold_button.setEnabled(connected)
        self.hold_button.blockSignals(True)
        self.hold_button.setChecked(state == "on_hold")
        self.hold_button.setText("Resume" if state == "on_hold" else "Hold")
        self.hold_button.setAccessibleName(
            "Resume the call" if state == "on_hold" else "Hold the call")
        self.hold_button.blockSignals(False)
        self.mute_button.setEnabled(True)
        if state == "ringing" and self.service.ring_seconds:
            self.detail_label.setText(
                f"Unanswered after {self.service.ring_seconds} seconds, the call ends as "
                "no answer.")
        elif state == "connected":
            self.detail_label.setText("")
        elif state == "on_hold":
            self.detail_label.setText("The patient hears nothing from you until you resume.")

    def show_failure(self, message: str) -> None:
        """The call could not be placed (refused, the phone service down): nothing was dialled
        or it failed at once; the appointment is as it was."""
        self.show_ended("Not called", message)

    @Slot(str, str)
    def show_ended(self, heading: str, message: str) -> None:
        self.state_label.setText(heading)
        self.state_label.setStyleSheet(f"color: {_STATE_COLOURS['ended']};")
        self.detail_label.setText(message)
        for widget in (self.keypad, self.mute_button, self.hold_button):
            widget.setEnabled(False)
        self.hang_up_button.setEnabled(True)
        self.hang_up_button.setText("Close")
        self.hang_up_button.setAccessibleName("Close")
        self.hang_up_button.setToolTip("Close this window")
        self.hang_up_button.setFocus()

    @Slot(bool)
    def _muted_changed(self, muted: bool) -> None:
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.setText("Unmute" if muted else "Mute")
        self.mute_button.setAccessibleName("Unmute microphone" if muted else "Mute microphone")
        self.mute_button.blockSignals(False)

    # -- controls ------------------------------------------------------------------------------

    def _mute_toggled(self, muted: bool) -> None:
        self.service.set_muted(muted)

    def _hold_toggled(self, hold: bool) -> None:
        self.hold_button.setEnabled(False)  # until the server says on hold / resumed
        self._run(self.service.set_hold(hold))

    def _hold_shortcut(self) -> None:
        if self.hold_button.isEnabled():
            self.hold_button.toggle()

    def _key_pressed(self, digit: str) -> None:
        self._run(self.service.send_keys(digit))

    def _hang_up_clicked(self) -> None:
        if self.service.in_call:
            self.hang_up_button.setEnabled(False)
            self._run(self.service.hang_up())
        else:
            self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if text and text in KEYS and self.keypad.isEnabled():
            self.keypad.press(text)
            return
        super().keyPressEvent(event)

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.service.in_call:
            self._run(self.service.hang_up())
        super().closeEvent(event)
