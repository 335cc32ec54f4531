"""The schedule's table view: one row per appointment, keyboard first, a ⋯ menu per row."""

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTableView, QWidget

from app.views.schedule_columns import Column, Role
from shared.records import Appointment

#: The longest status a row shows (a patient in the waiting room early): the column fits it.
_WIDEST_STATUS = "In the waiting room early (since 00:00)"
_TIME_WIDTH = 110
#: Rows measured for the Time column: its texts all have one shape, day or week.
_TIME_SAMPLE_ROWS = 50
#: Room for a cell's margins (and the status icon) beside its text.
_CELL_PADDING = 24


class ScheduleView(QTableView):
    #: (appointment, global position) — the actions menu should open there
    actionsRequested = Signal(object, QPoint)
    openRequested = Signal(object)
    cancelRequested = Signal(object)
    #: start the call (the row's call button, Enter on a waiting row, or Enter on a phone
    #: appointment that `rings_on_enter` says may be dialled now)
    callRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(True)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setTabKeyNavigation(False)  # Tab leaves the table, arrows move inside it
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(30)
        self.setAccessibleName("Clinic schedule")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.clicked.connect(self._clicked)
        self.doubleClicked.connect(self._double_clicked)
        #: Whether Enter on this row rings the patient's phone (set once calls are ready).
        self.rings_on_enter: Callable[[Appointment], bool] | None = None

    def configure_columns(self) -> None:
        """Column widths once the model is set (the header has sections only then)."""
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        small_icon = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        status = self.fontMetrics().horizontalAdvance(_WIDEST_STATUS) + small_icon
        widths = {
            Column.TIME: _TIME_WIDTH, Column.PATIENT: 200, Column.KIND: 110, Column.CLINICIAN: 140,
            Column.STATUS: max(120, status + _CELL_PADDING), Column.WAITING: 80,
            Column.CALL: 40, Column.ACTIONS: 40,
        }
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(column, width)
        header.setSectionResizeMode(Column.NOTES, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.CALL, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(Column.ACTIONS, QHeaderView.ResizeMode.Fixed)
        self.sortByColumn(Column.TIME, Qt.SortOrder.AscendingOrder)
        self.model().modelReset.connect(self.fit_time_column)

    def fit_time_column(self) -> None:
        """Fit the Time column to its text ("Thu 03 Dec 09:00–09:20" in a week, 09:00–09:20 in a
        day), never narrower than its usual width.

        Measures a sample of rows rather than every row (ResizeToContents would walk them all).
        """
        model = self.model()
        metrics = self.fontMetrics()
        texts = [str(model.headerData(Column.TIME, Qt.Orientation.Horizontal) or "")]
        for row in range(min(model.rowCount(), _TIME_SAMPLE_ROWS)):
            texts.append(str(model.index(row, Column.TIME).data() or ""))
        widest = max(metrics.horizontalAdvance(text) for text in texts) + _CELL_PADDING
        self.setColumnWidth(Column.TIME, max(_TIME_WIDTH, widest))

    def current_appointment(self) -> Appointment | None:
        index = self.currentIndex()
        if not index.isValid():
            return None
        value = index.siblingAtColumn(0).data(Role.APPOINTMENT)
        return value if isinstance(value, Appointment) else None

    def _appointment_at(self, index: QModelIndex) -> Appointment | None:
        value = index.siblingAtColumn(0).data(Role.APPOINTMENT) if index.isValid() else None
        return value if isinstance(value, Appointment) else None

    def _context_menu(self, position: QPoint) -> None:
        appointment = self._appointment_at(self.indexAt(position))
        if appointment is not None:
            self.actionsRequested.emit(appointment, self.viewport().mapToGlobal(position))

    def _callable(self, index: QModelIndex) -> bool:
        """The row shows a call button (its patient is waiting and calls are possible)."""
        return index.isValid() and index.siblingAtColumn(Column.CALL).data(
            Qt.ItemDataRole.DecorationRole) is not None

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() == Column.CALL and self._callable(index):
            appointment = self._appointment_at(index)
            if appointment is not None:
                self.callRequested.emit(appointment)
        if index.column() == Column.ACTIONS:
            appointment = self._appointment_at(index)
            if appointment is not None:
                rect = self.visualRect(index)
                self.actionsRequested.emit(
                    appointment, self.viewport().mapToGlobal(rect.bottomLeft())
                )

    def _double_clicked(self, index: QModelIndex) -> None:
        appointment = self._appointment_at(index)
        if appointment is not None and index.column() not in (Column.CALL, Column.ACTIONS):
            self.openRequested.emit(appointment)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        appointment = self.current_appointment()
        key = event.key()
        if appointment is not None and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            rings = self.rings_on_enter is not None and self.rings_on_enter(appointment)
            if self._callable(self.currentIndex()) or rings:
                # A waiting patient, or a phone appointment at or after its start: Enter calls.
                self.callRequested.emit(appointment)
            else:
                self.openRequested.emit(appointment)
            return
        if appointment is not None and key == Qt.Key.Key_Delete:
            self.cancelRequested.emit(appointment)
            return
        if appointment is not None and key == Qt.Key.Key_Menu:
            rect = self.visualRect(self.currentIndex())
            self.actionsRequested.emit(appointment, self.viewport().mapToGlobal(rect.center()))
            return
        super().keyPressEvent(event)
