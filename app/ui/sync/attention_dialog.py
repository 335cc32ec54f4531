"""Needs attention: the changes the server refused, each with its reason, to fix or discard."""

from uuid import UUID

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.schedule_service import ScheduleService
from app.store.pull_apply import Applied
from app.store.sync_facts import RejectedRecord
from app.views.date_text import date_time_text
from shared.errors import KnownError


class AttentionDialog(QDialog):
    #: the user wants to fix this appointment (opens the edit dialog)
    editRequested = Signal(object)

    def __init__(self, schedule: ScheduleService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Needs attention")
        self.resize(720, 360)
        self._schedule = schedule
        self._records: list[RejectedRecord] = []
        intro = QLabel(
            "The server refused these changes. Your data is kept here: edit an appointment "
            "to fix it and try again, or discard the change to take the server's version.",
            self,
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["What", "When", "Why the server refused it"])
        self.table.setAccessibleName("Changes the server refused")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.empty = QLabel("Nothing needs attention: every change has reached the server.", self)
        self.empty.hide()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.edit_button = QPushButton("&Edit and retry…", self)
        self.discard_button = QPushButton("&Discard my change", self)
        buttons.addButton(self.edit_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.edit_button.clicked.connect(self._edit)
        self.discard_button.clicked.connect(self._discard)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(self._edit)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        self._schedule.rejected(self._show)

    def _show(self, records: list[RejectedRecord]) -> None:
        self._records = records
        self.table.setRowCount(len(records))
        for row, record in enumerate(records):
            when = ""
            if record.start is not None:
                when = date_time_text(record.start)
            for column, text in enumerate((record.title, when, record.message)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        self.empty.setVisible(not records)
        self.table.setVisible(bool(records))
        if records:
            self.table.selectRow(0)
        self._update_buttons()

    def _selected(self) -> RejectedRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self._records[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        record = self._selected()
        self.discard_button.setEnabled(record is not None)
        self.edit_button.setEnabled(record is not None and record.entity_type == "appointment")

    def _edit(self) -> None:
        record = self._selected()
        if record is not None and record.entity_type == "appointment":
            self.editRequested.emit(record.entity_id)

    def _discard(self) -> None:
        record = self._selected()
        if record is not None:
            self._schedule.discard(record.entity_type, record.entity_id, self._discarded)

    def _discarded(self, _applied: Applied | None, error: KnownError | None) -> None:
        if error is not None:
            self.empty.setText(str(error))
            self.empty.show()
        self.reload()

    def select(self, entity_id: UUID) -> None:
        for row, record in enumerate(self._records):
            if record.entity_id == entity_id:
                self.table.selectRow(row)
                return
