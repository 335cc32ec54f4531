"""Every call made to a phone appointment's patient (from any desktop), newest first, and
Reschedule… for a patient who could not be reached."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.views.date_text import date_text, time_text
from app.views.phone_attempt_model import CALLER, OUTCOME, PhoneAttemptModel
from shared.enums import AppointmentStatus
from shared.records import Appointment, PhoneAttempt


class PhoneAttemptsDialog(QDialog):
    """Shows `attempts`; `reschedule` asks to open the appointment to change its time."""

    reschedule = Signal(object)

    def __init__(
        self, appointment: Appointment, attempts: list[PhoneAttempt],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.appointment = appointment
        self.setWindowTitle(f"Phone call attempts — {appointment.patient.name}")
        self.setMinimumSize(560, 300)
        when = (f"{date_text(appointment.start.astimezone().date())}, "
                f"{time_text(appointment.start)}–{time_text(appointment.end)}")
        heading = QLabel(f"{appointment.patient.name}: phone appointment {when} with "
                         f"{appointment.clinician.name}", self)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)

        # Made before the table: a screen reader reads it first, as it is laid out.
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.model = PhoneAttemptModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName("Calls to the patient's phone")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(OUTCOME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(CALLER, QHeaderView.ResizeMode.Stretch)

        self.set_attempts(attempts)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.reschedule_button = QPushButton("&Reschedule…", self)
        self.reschedule_button.setToolTip("Change the appointment's time (Edit)")
        scheduled = appointment.status is AppointmentStatus.SCHEDULED
        self.reschedule_button.setEnabled(scheduled)
        if not scheduled:
            self.reschedule_button.setToolTip(
                f"This appointment is {appointment.status.value.replace('_', '-')}.")
        buttons.addButton(self.reschedule_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.reschedule_button.clicked.connect(self._reschedule)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def set_attempts(self, attempts: list[PhoneAttempt]) -> None:
        """Show `attempts` (again, when a call made on another desktop synced)."""
        self.model.set_attempts(attempts)
        count = len(attempts)
        if count == 0:
            self.summary.setText("Nobody has called the patient's phone for this appointment "
                                 "yet.")
        else:
            made = "1 call made." if count == 1 else f"{count} calls made, the latest first."
            self.summary.setText(f"{made} Calls made on other desktops arrive here as they "
                                 "sync.")
        self.table.setVisible(count > 0)

    def _reschedule(self) -> None:
        self.reschedule.emit(self.appointment)
        self.accept()
