"""Create or edit a task: who does it, by when, what (prefilled after a consultation)."""

from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.task_service import TaskService
from app.views.date_text import date_time_text, edit_date_format
from shared.drafts import TaskDraft
from shared.errors import KnownError, ValidationFailed
from shared.records import Appointment, StaffMember, Task

#: A follow-up is due in a week unless the clinician says otherwise.
DEFAULT_DUE = timedelta(days=7)


def related_task_text(appointment: Appointment) -> str:
    return (f"Follow-up for {appointment.patient.name} after the {appointment.kind.label.lower()} "
            f"consultation on {date_time_text(appointment.start)}: ")


class TaskDialog(QDialog):
    def __init__(
        self,
        tasks: TaskService,
        staff: list[StaffMember],
        parent: QWidget | None = None,
        *,
        task: Task | None = None,
        appointment: Appointment | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.task = task
        self.appointment_id = task.appointment_id if task else \
            (appointment.id if appointment else None)
        self.saved: Task | None = None
        self.setWindowTitle("Edit task" if task else "New task")
        self.setMinimumWidth(480)

        self.assignee = QComboBox(self)
        for member in staff:
            self.assignee.addItem(f"{member.name} ({member.role.value})", member.id)
        chosen = task.assignee.id if task else (appointment.clinician.id if appointment
                                                 else tasks.user_id)
        index = self.assignee.findData(chosen)
        self.assignee.setCurrentIndex(max(0, index))
        self.due = QDateEdit(self)
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat(edit_date_format())
        due = task.due_date if task and task.due_date else date.today() + DEFAULT_DUE
        self.due.setDate(QDate(due.year, due.month, due.day))
        self.text = QPlainTextEdit(self)
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText("What needs doing")
        self.text.setPlainText(task.text if task else
                               (related_task_text(appointment) if appointment else ""))
        self.done_box = QCheckBox("Done", self)
        self.done_box.setChecked(bool(task and task.done))
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()

        form = QFormLayout()
        form.addRow("&For", self.assignee)
        form.addRow("D&ue", self.due)
        form.addRow("&Task", self.text)
        form.addRow("", self.done_box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if appointment is not None:
            related = QLabel(f"Related to {appointment.patient.name}'s appointment.", self)
            layout.addWidget(related)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.text.setFocus()
        cursor = self.text.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.text.setTextCursor(cursor)

    def draft(self) -> TaskDraft:
        due = self.due.date()
        return TaskDraft(
            assignee_id=self.assignee.currentData(),
            text=self.text.toPlainText(),
            due_date=date(due.year(), due.month(), due.day()),
            done=self.done_box.isChecked(),
            appointment_id=self.appointment_id,
            id=self.task.id if self.task else None,
        )

    def save(self) -> None:
        self.tasks.save(self.draft(), self._saved)

    def _saved(self, task: Task | None, error: KnownError | None) -> None:
        if task is not None:
            self.saved = task
            self.accept()
            return
        if isinstance(error, ValidationFailed):
            self.error.setText("\n".join(e.message for e in error.errors))
        else:
            self.error.setText(str(error))
        self.error.show()
