"""The schedule's filter and sort proxy: free text, status, kind and clinician."""

from dataclasses import dataclass, field
from uuid import UUID

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.views.schedule_model import ScheduleModel
from shared.enums import AppointmentKind, DisplayState


@dataclass(slots=True)
class ScheduleFilter:
    """What the filter bar asks for; empty fields match everything."""

    text: str = ""
    states: frozenset[DisplayState] = field(default_factory=frozenset)
    kind: AppointmentKind | None = None
    clinician_id: UUID | None = None


class ScheduleFilterProxy(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._filter = ScheduleFilter()
        self._needle = ""
        self._model: ScheduleModel | None = None
        # Filters again when a row's data changes (an arrival enters a "Waiting" filter).
        self.setDynamicSortFilter(True)

    @property
    def current_filter(self) -> ScheduleFilter:
        return self._filter

    def set_filter(self, wanted: ScheduleFilter) -> None:
        if wanted == self._filter:
            return
        self.beginFilterChange()
        self._filter = wanted
        self._needle = wanted.text.strip().casefold()
        self.endFilterChange()

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        assert isinstance(model, ScheduleModel)
        # Kept here: filterAcceptsRow runs once per row on every keystroke.
        self._model = model
        super().setSourceModel(model)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is the source model's job (ScheduleModel.sort); this proxy keeps its order."""
        model = self.sourceModel()
        if isinstance(model, ScheduleModel):
            model.sort(column, order)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self._model
        assert model is not None
        wanted = self._filter
        if wanted.kind is not None or wanted.clinician_id is not None or wanted.states:
            appointment = model.appointment_at(source_row)
            if wanted.kind is not None and appointment.kind is not wanted.kind:
                return False
            if wanted.clinician_id is not None and appointment.clinician.id != wanted.clinician_id:
                return False
            if wanted.states and model.state_of(appointment) not in wanted.states:
                return False
        # The name and MRN, casefolded once per appointment (the model keeps them).
        return not self._needle or self._needle in model.search_text(source_row)
