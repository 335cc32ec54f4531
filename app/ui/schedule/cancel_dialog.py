"""The confirmation before one appointment is cancelled, with the reason for the record."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.views.date_text import date_text, time_text
from shared.records import Appointment

COMMON_REASONS = ("Patient request", "Clinician unavailable", "Booked in error", "Rescheduled")


class CancelDialog(QDialog):
    """Asks to confirm; writes nothing (the caller calls `set_status` with `reason()`)."""

    def __init__(self, appointment: Appointment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cancel appointment")
        self.setMinimumWidth(440)
        when = (f"{date_text(appointment.start.astimezone().date())}, "
                f"{time_text(appointment.start)}–{time_text(appointment.end)}")

        question = QLabel(f"Cancel {appointment.patient.name}'s appointment?", self)
        font = question.font()
        font.setBold(True)
        question.setFont(font)
        question.setWordWrap(True)
        question.setTextFormat(Qt.TextFormat.PlainText)
        final = QLabel(
            "A cancelled appointment cannot be reopened; book a new one if needed.", self
        )
        final.setWordWrap(True)

        self.reason_combo = QComboBox(self)
        self.reason_combo.setEditable(True)
        self.reason_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.reason_combo.addItems(COMMON_REASONS)
        self.reason_combo.setCurrentIndex(-1)
        line_edit = self.reason_combo.lineEdit()
        if line_edit is not None:
            line_edit.setPlaceholderText("Choose or type a reason")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for title, value in (
            ("Patient", appointment.patient.name),
            ("When", when),
            ("Clinician", appointment.clinician.name),
            ("Kind", appointment.kind.label),
        ):
            shown = QLabel(value, self)
            shown.setTextFormat(Qt.TextFormat.PlainText)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(title, shown)
        reason_label = QLabel("&Reason", self)
        reason_label.setBuddy(self.reason_combo)
        form.addRow(reason_label, self.reason_combo)

        self.cancel_button = QPushButton("&Cancel appointment", self)
        self.cancel_button.setDefault(True)
        self.cancel_button.setAccessibleDescription("Cancels the appointment; it cannot be undone")
        palette = self.cancel_button.palette()
        dark = palette.color(QPalette.ColorRole.Button).lightness() < 128
        palette.setColor(QPalette.ColorRole.ButtonText, QColor("#ff8a80" if dark else "#a1261b"))
        self.cancel_button.setPalette(palette)
        self.keep_button = QPushButton("&Keep appointment", self)
        self.keep_button.setAutoDefault(False)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(question)
        layout.addWidget(final)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(buttons)
        self.reason_combo.setFocus()
        layout.activate()  # sized before the window exists

    def reason(self) -> str:
        """The reason chosen or typed; empty when none was given."""
        return self.reason_combo.currentText().strip()
