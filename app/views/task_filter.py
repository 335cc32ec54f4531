"""The Tasks view's filter: open / done / all, and mine / everyone's."""

from uuid import UUID

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel

from app.views.task_model import TASK_ROLE
from shared.records import Task


class TaskFilterProxy(QSortFilterProxyModel):
    def __init__(self, user_id: UUID, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.user_id = user_id
        self.show = "open"  # open | done | all
        self.mine_only = False

    def set_filter(self, show: str, mine_only: bool) -> None:
        self.beginFilterChange()
        self.show, self.mine_only = show, mine_only
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        task = model.index(source_row, 0, source_parent).data(TASK_ROLE)
        if not isinstance(task, Task):
            return False
        if self.show == "open" and task.done or self.show == "done" and not task.done:
            return False
        return not (self.mine_only and task.assignee.id != self.user_id)
