"""The Tasks view's model: one row per task (what, who, due, done), with its sync marker."""

from datetime import date
from typing import Any
from uuid import UUID

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from app.views.date_text import date_text
from app.views.icons import icon
from shared.enums import SyncState
from shared.records import Task

_Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Done", "Task", "For", "Due")
DONE, TEXT, ASSIGNEE, DUE = range(4)
#: The Task record itself, for the view and the filter.
TASK_ROLE = Qt.ItemDataRole.UserRole + 1


class TaskModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Task] = []
        self.today = date.today()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def task_at(self, row: int) -> Task:
        return self._rows[row]

    def row_of(self, task_id: UUID) -> int | None:
        return next((n for n, task in enumerate(self._rows) if task.id == task_id), None)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        task = self._rows[index.row()]
        column = index.column()
        if role == TASK_ROLE:
            return task
        if role == Qt.ItemDataRole.CheckStateRole and column == DONE:
            return Qt.CheckState.Checked if task.done else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DisplayRole:
            if column == TEXT:
                return task.text.splitlines()[0] if task.text else ""
            if column == ASSIGNEE:
                return task.assignee.name
            if column == DUE:
                return date_text(task.due_date) if task.due_date else ""
        if role == Qt.ItemDataRole.ToolTipRole and column == TEXT:
            note = {SyncState.PENDING: "\nSaved here; not yet sent to the server.",
                    SyncState.REJECTED: f"\nThe server refused this change: {task.sync_message}"}
            return task.text + note.get(task.sync_state, "")
        if role == Qt.ItemDataRole.DecorationRole and column == TEXT:
            name = {SyncState.PENDING: "pending", SyncState.REJECTED: "sync-rejected"}
            return icon(name[task.sync_state]) if task.sync_state in name else None
        if role == Qt.ItemDataRole.ForegroundRole and column == DUE and task.due_date \
                and not task.done and task.due_date < self.today:
            return Qt.GlobalColor.darkRed  # overdue
        if role == Qt.ItemDataRole.AccessibleTextRole and column == DONE:
            return "Done" if task.done else "Open"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == DONE:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def set_tasks(self, tasks: list[Task]) -> None:
        """Take the store's list: rows change in place, come and go; no reset."""
        new = {task.id: task for task in tasks}
        for row in reversed(range(len(self._rows))):
            if self._rows[row].id not in new:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        for row, task in enumerate(self._rows):
            if new[task.id] != task:
                self._rows[row] = new[task.id]
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        known = {task.id for task in self._rows}
        added = [task for task in tasks if task.id not in known]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()
