"""The invitees of a group appointment: a name and email table with add, remove and a count."""

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shared.records import MAX_GROUP_PARTICIPANTS, Participant


class ParticipantsEditor(QWidget):
    """Edits the list; past the limit of 50 the count turns the error colour (save refuses it)."""

    def __init__(self, error_colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._error_colour = error_colour
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Name", "Email"])
        self.table.setAccessibleName("Participants")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(150)
        model = self.table.model()
        model.rowsInserted.connect(self._update_count)
        model.rowsRemoved.connect(self._update_count)
        self.add_button = QPushButton("Add &participant", self)
        self.add_button.clicked.connect(self._add)
        self.remove_button = QPushButton("Remo&ve", self)
        self.remove_button.setToolTip("Remove the selected participants")
        self.remove_button.clicked.connect(self._remove)
        self.count_label = QLabel(self)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        column.addLayout(buttons)
        self._update_count()

    def participants(self) -> list[Participant]:
        found: list[Participant] = []
        for row in range(self.table.rowCount()):
            name, email = (self._cell_text(row, column) for column in (0, 1))
            if name or email:  # a row added and left empty is not an invitee
                found.append(Participant(name=name, email=email))
        return found

    def append(self, name: str, email: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.setItem(row, 1, QTableWidgetItem(email))
        return row

    def _cell_text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return "" if item is None else item.text().strip()

    @Slot()
    def _add(self) -> None:
        row = self.append("", "")
        self.table.setCurrentCell(row, 0)
        self.table.setFocus()
        item = self.table.item(row, 0)
        if item is not None:
            self.table.editItem(item)

    @Slot()
    def _remove(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if not rows and self.table.currentRow() >= 0:
            rows = {self.table.currentRow()}
        for row in sorted(rows, reverse=True):
            self.table.removeRow(row)

    @Slot()
    def _update_count(self) -> None:
        count = self.table.rowCount()
        self.count_label.setText(f"{count} of {MAX_GROUP_PARTICIPANTS}")
        too_many = count > MAX_GROUP_PARTICIPANTS
        self.count_label.setStyleSheet(
            f"QLabel {{ color: {self._error_colour}; }}" if too_many else ""
        )
        self.remove_button.setEnabled(count > 0)
