"""The schedule's filter and sort proxy: free text, status, kind and clinician."""

from dataclasses import dataclass, field
from uuid import UUID

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.domain.enums import AppointmentKind, DisplayState
from app.views.schedule_model import ScheduleModel


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

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is the source model's job (ScheduleModel.sort); this proxy keeps its order."""
        model = self.sourceModel()
        if isinstance(model, ScheduleModel):
            model.sort(column, order)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        assert isinstance(model, ScheduleModel)
        appointment = model.appointment_at(source_row)
        wanted = self._filter
        if wanted.kind is not None and appointment.kind is not wanted.kind:
            return False
        if wanted.clinician_id is not None and appointment.clinician.id != wanted.clinician_id:
            return False
        if wanted.states and model.state_of(appointment) not in wanted.states:
            return False
        if self._needle:
            patient = appointment.patient
            return self._needle in patient.name.casefold() or self._needle in patient.mrn.casefold()
        return True
