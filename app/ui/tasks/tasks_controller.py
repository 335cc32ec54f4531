"""Opening the Tasks view and the task dialog from the schedule, the menu and the call window."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from app.services.message_bridge import MessageBridge
from app.services.schedule_service import ScheduleService
from app.services.task_service import TaskService
from app.ui.common.window_controller import WindowController
from app.ui.tasks.task_dialog import TaskDialog
from app.ui.tasks.tasks_window import TasksWindow
from shared.records import Appointment


class TasksController(WindowController):
    def __init__(self, tasks: TaskService, schedule: ScheduleService,
                 bridge: MessageBridge) -> None:
        super().__init__()
        self.tasks = tasks
        self.schedule = schedule
        self._bridge = bridge
        self.tasks_window: TasksWindow | None = None
        #: The window puts it on its toolbar.
        self.action = QAction("Tasks", self)
        self.action.setShortcut(QKeySequence("Ctrl+T"))
        self.action.setToolTip("Follow-ups given to you or made by you (Ctrl+T)")
        self.action.triggered.connect(self.open_tasks)

    def open_tasks(self) -> TasksWindow:
        if self.tasks_window is None:
            view = TasksWindow(self.tasks, self.schedule.staff, self.host())
            view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            view.destroyed.connect(self._tasks_closed)
            self.tasks_window = view
        self.tasks_window.show()
        self.tasks_window.raise_()
        return self.tasks_window

    def _tasks_closed(self) -> None:
        self.tasks_window = None

    def new_task(self, appointment: Appointment) -> TaskDialog:
        """A task related to `appointment`, prefilled (its clinician, a week, its patient)."""
        dialog = TaskDialog(self.tasks, self.schedule.staff, self.host(),
                            appointment=appointment)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._task_saved)
        dialog.open()
        return dialog

    def _task_saved(self) -> None:
        self._bridge.note.emit("Task saved; it goes to the server with your other changes", 5000)
