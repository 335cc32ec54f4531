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

from app.services.task_service import TaskService
from app.ui.common.banner import Banner
from app.ui.common.window_placement import place_near_owner_when_shown
from app.ui.tasks.task_dialog import TaskDialog
from app.views.task_filter import TaskFilterProxy
from app.views.task_model import DONE, TASK_ROLE, TEXT, TaskModel
from shared.drafts import TaskDraft
from shared.errors import KnownError
from shared.records import Appointment, StaffMember, Task


class TasksWindow(QWidget):
    def __init__(self, tasks: TaskService, staff: list[StaffMember],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Tasks — Clinic Desk")
        self.resize(760, 460)
        place_near_owner_when_shown(self)
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
        #: What a tick did ("… is done"), with Undo; and what went wrong.
        self.banner = Banner(self)

        bar = QHBoxLayout()
        bar.addWidget(self.show_filter)
        bar.addWidget(self.whose)
        bar.addStretch(1)
        bar.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
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
        self.set_done(task, not task.done)

    def set_done(self, task: Task, done: bool, undoing: bool = False) -> None:
        """Tick `task` off (or open it again), then say so, with Undo unless undoing."""
        self.tasks.save(TaskDraft(
            assignee_id=task.assignee.id, text=task.text, due_date=task.due_date,
            done=done, appointment_id=task.appointment_id, id=task.id,
        ), lambda saved, error: self._toggled(saved, error, undoing))

    def _toggled(self, saved: Task | None, error: KnownError | None, undoing: bool) -> None:
        if error is not None or saved is None:
            self.banner.show_error(f"The task was not changed: {error}")
            return
        title = saved.text.splitlines()[0] if saved.text else "The task"
        if undoing:
            self.banner.show_info(f"“{title}” is back as it was.")
            return
        if saved.done:
            hidden = self.show_filter.currentData() == "open"
            where = " It has moved to Done." if hidden else ""
            text = f"“{title}” is done.{where}"
        else:
            hidden = self.show_filter.currentData() == "done"
            where = " It has moved to Open tasks." if hidden else ""
            text = f"“{title}” is open again.{where}"
        self.banner.show_message("info", text, "&Undo",
                                 lambda: self.set_done(saved, not saved.done, undoing=True))
