"""A short message to the patient in the waiting room ("Running 10 minutes late")."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.views.date_text import time_text
from shared.records import Appointment

COMMON_MESSAGES = (
    "Running 10 minutes late, thank you for waiting.",
    "Running 20 minutes late, thank you for waiting.",
    "I will be with you in a moment.",
    "Please check that your camera and microphone are on.",
)
#: The server refuses longer ones.
MAX_LENGTH = 280


class WaitingMessageDialog(QDialog):
    """Asks for the text; sends nothing itself (the caller sends `text()`)."""

    def __init__(self, appointment: Appointment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Message the waiting patient")
        self.setMinimumWidth(460)
        intro = QLabel(
            f"{appointment.patient.name} sees this on the waiting-room page "
            f"({time_text(appointment.start)} with {appointment.clinician.name}).", self)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.message = QComboBox(self)
        self.message.setEditable(True)
        self.message.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.message.addItems(COMMON_MESSAGES)
        self.message.setCurrentIndex(0)
        line = self.message.lineEdit()
        if line is not None:
            line.setMaxLength(MAX_LENGTH)
            line.setPlaceholderText("Choose or type a short message")
            # The preset is a suggestion: typing replaces it rather than adding to it.
            line.selectAll()
        self.message.setAccessibleName("Message")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        send = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        send.setText("Send")
        self.buttons.accepted.connect(self._accept_if_written)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def text(self) -> str:
        return " ".join(self.message.currentText().split())

    def _accept_if_written(self) -> None:
        if self.text():
            self.accept()
