"""The Tasks view: follow-ups given to you or made by you, filtered, ticked off in place."""

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.drafts import TaskDraft
from app.domain.errors import KnownError
from app.domain.records import Appointment, StaffMember, Task
from app.services.task_service import TaskService
from app.ui.tasks.task_dialog import TaskDialog
from app.views.task_filter import TaskFilterProxy
from app.views.task_model import DONE, TASK_ROLE, TEXT, TaskModel


class TasksWindow(QWidget):
    def __init__(self, tasks: TaskService, staff: list[StaffMember],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Tasks — Clinic Desk")
        self.resize(760, 460)
        self.tasks = tasks
        self.staff = staff
        self.model = TaskModel(self)
        self.proxy = TaskFilterProxy(tasks.user_id, self)
        self.proxy.setSourceModel(self.model)
        self.show_filter = QComboBox(self)
        self.show_filter.addItem("Open tasks", "open")
        self.show_filter.addItem("Done", "done")
        self.show_filter.addItem("All tasks", "all")
        self.show_filter.setAccessibleName("Show")
        self.whose = QComboBox(self)
        self.whose.addItem("Given to me or made by me", False)
        self.whose.addItem("Given to me", True)
        self.whose.setAccessibleName("Whose")
        self.new_button = QPushButton("&New task…", self)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        self.view.setAccessibleName("Tasks")

        bar = QHBoxLayout()
        bar.addWidget(self.show_filter)
        bar.addWidget(self.whose)
        bar.addStretch(1)
        bar.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

        self.show_filter.currentIndexChanged.connect(self._filter)
        self.whose.currentIndexChanged.connect(self._filter)
        self.new_button.clicked.connect(lambda: self.open_dialog())
        self.view.doubleClicked.connect(self._open)
        self.view.clicked.connect(self._clicked)
        tasks.tasksLoaded.connect(self.model.set_tasks)
        tasks.load()

    def _filter(self) -> None:
        self.proxy.set_filter(self.show_filter.currentData(), self.whose.currentData())

    def open_dialog(self, task: Task | None = None,
                    appointment: Appointment | None = None) -> TaskDialog:
        dialog = TaskDialog(self.tasks, self.staff, self, task=task, appointment=appointment)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _task(self, index: QModelIndex) -> Task | None:
        value = index.siblingAtColumn(0).data(TASK_ROLE)
        return value if isinstance(value, Task) else None

    def _open(self, index: QModelIndex) -> None:
        task = self._task(index)
        if task is not None and index.column() != DONE:
            self.open_dialog(task)

    def _clicked(self, index: QModelIndex) -> None:
        """A click on the Done box ticks the task off (or opens it again)."""
        task = self._task(index)
        if task is None or index.column() != DONE:
            return
        self.tasks.save(TaskDraft(
            assignee_id=task.assignee.id, text=task.text, due_date=task.due_date,
            done=not task.done, appointment_id=task.appointment_id, id=task.id,
        ), self._toggled)

    def _toggled(self, _task: Task | None, error: KnownError | None) -> None:
        if error is not None:
            self.setToolTip(str(error))
