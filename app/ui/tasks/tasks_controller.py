"""Opening the Tasks view and the task dialog from the schedule, the menu and the call window."""

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from app.domain.records import Appointment
from app.services.schedule_service import ScheduleService
from app.services.task_service import TaskService
from app.ui.schedule.main_window import MainWindow
from app.ui.tasks.task_dialog import TaskDialog
from app.ui.tasks.tasks_window import TasksWindow


class TasksController(QObject):
    def __init__(self, window: MainWindow, tasks: TaskService,
                 schedule: ScheduleService) -> None:
        super().__init__(window)
        self.window = window
        self.tasks = tasks
        self.schedule = schedule
        self.tasks_window: TasksWindow | None = None
        self.action = QAction("Tasks", window)
        self.action.setShortcut(QKeySequence("Ctrl+T"))
        self.action.setToolTip("Follow-ups given to you or made by you (Ctrl+T)")
        self.action.triggered.connect(self.open_tasks)
        window.add_toolbar_action(self.action)

    def open_tasks(self) -> TasksWindow:
        if self.tasks_window is None:
            view = TasksWindow(self.tasks, self.schedule.staff, self.window)
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
        dialog = TaskDialog(self.tasks, self.schedule.staff, self.window,
                            appointment=appointment)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._task_saved)
        dialog.open()
        return dialog

    def _task_saved(self) -> None:
        self.window.statusBar().showMessage("Task saved; it goes to the server with your "
                                            "other changes", 5000)
