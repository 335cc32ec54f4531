"""The Settings dialog: server, call networking, camera and idle lock, with policy locks shown."""

import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.policy.effective import EffectiveSetting
from app.policy.errors import InvalidPolicyValue
from app.policy.keys import MAX_LIST_ITEMS, validate
from app.services.settings_service import SettingsService
from app.ui.common.form_section import add_section
from app.ui.settings.devices_section import DevicesSection
from app.views.icons import icon
from shared.errors import KnownError

if TYPE_CHECKING:
    from app.services.call_service import CallService

#: Written before every error so that colour is not the only signal.
ERROR_PREFIX = "Error: "
#: The longest idle lock a user may choose; a policy may set more (up to a day).
MAX_USER_IDLE_LOCK_MINUTES = 240
#: Shown under "Calls": what the fields below do.
CALLS_NOTE = (
    "Calls use these from the next call on: the network interfaces the call may use (empty: "
    "all), your hospital's TURN servers, and whether a test picture and tone may stand in for "
    "a missing camera or microphone."
)
_LIST_SEPARATORS = re.compile(r"[,\n]")
_SERVER_EXAMPLE = "https://clinicdesk.example-hospital.org"


def split_list(text: str) -> list[str]:
    """Entries typed one per line or separated by commas; blanks dropped."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def _keep_readable(field: QWidget) -> None:
    """A locked field still shows a value the user must be able to read (and read out to IT).

    Disabled text is drawn faint, like a placeholder; draw it three quarters of the way
    from the background to the normal text colour instead.
    """
    palette = field.palette()
    group = QPalette.ColorGroup
    for role, background in (
        (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
        (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
        (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    ):
        text = palette.color(group.Active, role)
        back = palette.color(group.Disabled, background)
        mixed = QColor(
            (3 * text.red() + back.red()) // 4,
            (3 * text.green() + back.green()) // 4,
            (3 * text.blue() + back.blue()) // 4,
        )
        palette.setColor(group.Disabled, role, mixed)
    field.setPalette(palette)


class _ListEdit(QPlainTextEdit):
    """A few lines of plain text for a list; Tab moves on, as in the other fields."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lines = 3
        height = self.fontMetrics().lineSpacing() * lines
        margins = self.contentsMargins()
        self.setFixedHeight(
            height + int(2 * self.document().documentMargin()) + margins.top() + margins.bottom()
        )


class SettingsDialog(QDialog):
    """Shows the effective settings; Save writes the user's unlocked changes, Cancel nothing."""

    #: The effective settings after a successful save (dict[str, EffectiveSetting]).
    settingsSaved = Signal(dict)

    def __init__(self, service: SettingsService, parent: QWidget | None = None,
                 calls: "CallService | None" = None) -> None:
        super().__init__(parent)
        self._service = service
        self._calls = calls
        self.devices: DevicesSection | None = None
        self._settings = service.effective()
        #: key → (error label, widget to focus); in the form's order
        self._errors: dict[str, tuple[QLabel, QWidget]] = {}
        #: key → the lock note shown under a policy-controlled field
        self.lock_notes: dict[str, QLabel] = {}
        self.saved: dict[str, EffectiveSetting] | None = None
        self.setWindowTitle("Settings")
        self.setMinimumWidth(600)
        self._build()
        self._fill()
        first = next((w for _, w in self._errors.values() if w.isEnabled()), None)
        if first is not None:
            first.setFocus()
        self._layout.activate()  # sized before the window exists
        self.resize(max(self.minimumWidth(), self.sizeHint().width()), self.height())
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the wrapped hints and errors need at this width (Qt sizes by hints)."""
        self._layout.activate()
        height = self.heightForWidth(self.width())
        if height > 0:
            self.resize(self.width(), height)

    # --- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.server_edit = QLineEdit(self)
        self.server_edit.setPlaceholderText(_SERVER_EXAMPLE)
        self.server_edit.setAccessibleName("Server URL")
        self.ice_edit = _ListEdit(self)
        self.ice_edit.setPlaceholderText("All interfaces")
        self.ice_edit.setAccessibleName("Network interfaces for calls")
        self.turn_edit = _ListEdit(self)
        self.turn_edit.setPlaceholderText("None: direct connections only")
        self.turn_edit.setAccessibleName("TURN servers")
        self.test_pattern_check = QCheckBox(
            "Allow a &test pattern and tone when no camera or microphone is present", self)
        self.idle_spin = QSpinBox(self)
        self.idle_spin.setRange(0, MAX_USER_IDLE_LOCK_MINUTES)
        self.idle_spin.setSpecialValueText("Off")
        self.idle_spin.setSuffix(" min")
        self.idle_spin.setAccessibleName("Lock after idle, in minutes")

        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self._section("Server")
        self._row("Server &URL", "server_url", self.server_edit,
                  "The Clinic Desk server of your hospital (https://).")
        self._section("Calls")
        self.calls_note = QLabel(CALLS_NOTE, self)
        self.calls_note.setWordWrap(True)
        self._form.addRow(self.calls_note)
        self._row("Network &interfaces", "ice_interfaces", self.ice_edit,
                  "One per line or separated by commas (eth0, Wi-Fi, 10.1.2.3). "
                  "Empty: all interfaces.")
        self._row("T&URN servers", "turn_servers", self.turn_edit,
                  "Relays for calls through firewalls: turn: or turns: addresses, one per line.")
        self._row("Test sources", "allow_test_pattern", self.test_pattern_check,
                  "For training rooms only: the patient sees colour bars and hears a tone, "
                  "and the call window says so. Off: no camera means no video.")
        if self._calls is not None:
            self.devices = DevicesSection(self._calls, self._form, self)
        self._section("Privacy")
        self._row("&Lock when idle", "idle_lock_minutes", self.idle_spin,
                  f"Minutes without use before Clinic Desk locks (1–{MAX_USER_IDLE_LOCK_MINUTES});"
                  " Off never locks.", grow=False)

        self.save_button = QPushButton("&Save", self)
        self.save_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAutoDefault(False)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)

        self.general_error = self._error_label(self)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(self._form)
        self._layout.addWidget(self.general_error)
        # Spare height goes here, not between a field and its (word-wrapped) hint.
        self._layout.addStretch(1)
        self._layout.addSpacing(4)
        self._layout.addWidget(buttons)

    def _section(self, title: str) -> None:
        add_section(self._form, title, self)

    def _row(self, text: str, key: str, field: QWidget, hint: str, grow: bool = True) -> None:
        """A labelled field with its hint, its lock note (if locked) and its error line."""
        label = QLabel(text, self)
        label.setBuddy(field)
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if grow:
            column.addWidget(field)
        else:
            line = QHBoxLayout()
            line.addWidget(field)
            line.addStretch(1)
            column.addLayout(line)
        hint_label = QLabel(hint, holder)
        hint_label.setWordWrap(True)
        hint_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        small = hint_label.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        hint_label.setFont(small)
        column.addWidget(hint_label)

        setting = self._settings[key]
        if setting.locked:
            note = QWidget(holder)
            note_row = QHBoxLayout(note)
            note_row.setContentsMargins(0, 2, 0, 0)
            note_row.setSpacing(6)
            size = hint_label.fontMetrics().height()
            lock = QLabel(note)
            lock.setPixmap(icon("lock").pixmap(size, size))
            lock.setAccessibleName("Locked")
            note_text = QLabel(setting.note, note)
            note_text.setWordWrap(True)
            note_text.setTextFormat(Qt.TextFormat.PlainText)
            note_text.setFont(small)
            note_row.addWidget(lock, 0, Qt.AlignmentFlag.AlignTop)
            note_row.addWidget(note_text, 1)
            column.addWidget(note)
            self.lock_notes[key] = note_text
            field.setEnabled(False)
            _keep_readable(field)
            field.setToolTip(setting.note)
            field.setAccessibleDescription(setting.note)

        error = self._error_label(holder)
        column.addWidget(error)
        self._errors[key] = (error, field)
        self._form.addRow(label, holder)

    def _error_label(self, parent: QWidget) -> QLabel:
        error = QLabel(parent)
        error.setWordWrap(True)
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.setStyleSheet(f"QLabel {{ color: {self._error_colour()}; }}")
        error.hide()
        return error

    def _error_colour(self) -> str:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        return "#ff8a80" if dark else "#b3261e"

    # --- values ----------------------------------------------------------------------------
    def _fill(self) -> None:
        values = {key: setting.value for key, setting in self._settings.items()}
        self.server_edit.setText(str(values["server_url"]))
        self.ice_edit.setPlainText("\n".join(values["ice_interfaces"]))
        self.turn_edit.setPlainText("\n".join(values["turn_servers"]))
        self.test_pattern_check.setChecked(bool(values["allow_test_pattern"]))
        minutes = int(values["idle_lock_minutes"])
        if self._settings["idle_lock_minutes"].locked and minutes > self.idle_spin.maximum():
            self.idle_spin.setMaximum(minutes)  # show the policy's value, not a clamped one
        self.idle_spin.setValue(minutes)

    def values(self) -> dict[str, Any]:
        """What the fields hold now, as setting values (unchecked)."""
        return {
            "server_url": self.server_edit.text().strip(),
            "ice_interfaces": split_list(self.ice_edit.toPlainText()),
            "turn_servers": split_list(self.turn_edit.toPlainText()),
            "allow_test_pattern": self.test_pattern_check.isChecked(),
            "idle_lock_minutes": self.idle_spin.value(),
        }

    def _problems(self, values: dict[str, Any]) -> dict[str, str]:
        """key → the message to show under it, for every unlocked field that is not valid."""
        problems: dict[str, str] = {}
        for key, value in values.items():
            if self._settings[key].locked or (key == "server_url" and not value):
                continue  # a blank server URL clears the user's choice
            try:
                validate(key, value)
            except InvalidPolicyValue as error:
                message = str(error)
                if key in ("ice_interfaces", "turn_servers") and len(value) > MAX_LIST_ITEMS:
                    message = f"At most {MAX_LIST_ITEMS} entries, not {len(value)}."
                elif key == "server_url":
                    message = f"{message}. Enter it like {_SERVER_EXAMPLE}"
                problems[key] = message
        return problems

    # --- saving ----------------------------------------------------------------------------
    def error_text(self, key: str) -> str:
        """The error shown under the field of `key`, or "" when there is none."""
        label, _ = self._errors[key]
        return label.text() if not label.isHidden() else ""

    def _clear_errors(self) -> None:
        self.general_error.hide()
        for key, (label, widget) in self._errors.items():
            label.clear()
            label.hide()
            widget.setAccessibleDescription(self._settings[key].note)

    def _save(self) -> None:
        self._clear_errors()
        values = self.values()
        problems = self._problems(values)
        if problems:
            first: QWidget | None = None
            for key, (label, widget) in self._errors.items():
                if key in problems:
                    text = ERROR_PREFIX + problems[key]
                    label.setText(text)
                    label.show()
                    widget.setAccessibleDescription(text)
                    first = first or widget
            if first is not None:
                first.setFocus()
            self._fit_height()
            return
        unlocked = {key: value for key, value in values.items()
                    if not self._settings[key].locked}
        try:
            self.saved = self._service.save(unlocked)
        except KnownError as error:
            self.general_error.setText(ERROR_PREFIX + str(error))
            self.general_error.show()
            self._fit_height()
            return
        if self.devices is not None:
            self.devices.save()
        self.settingsSaved.emit(self.saved)
        self.accept()
