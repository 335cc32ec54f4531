"""The filter bar above the schedule: free text, status, kind and clinician, remembered."""

from uuid import UUID

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from app.views.schedule_filter import ScheduleFilter
from shared.enums import AppointmentKind, DisplayState
from shared.records import StaffMember

_ACTIVE = frozenset({DisplayState.SCHEDULED, DisplayState.WAITING})
_STATUS_CHOICES: list[tuple[str, frozenset[DisplayState]]] = [
    ("All statuses", frozenset()),
    ("Active (scheduled or waiting)", _ACTIVE),
    *[(state.label, frozenset({state})) for state in DisplayState],
]


class FilterBar(QWidget):
    filterChanged = Signal(object)  # ScheduleFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLineEdit(self)
        self.text.setPlaceholderText("Filter by patient name or MRN  (Ctrl+F)")
        self.text.setClearButtonEnabled(True)
        self.text.setAccessibleName("Filter by patient name or MRN")
        self.status = QComboBox(self)
        self.status.setAccessibleName("Filter by status")
        for label, states in _STATUS_CHOICES:
            self.status.addItem(label, sorted(states))
        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Filter by kind")
        self.kind.addItem("All kinds", None)
        for kind in AppointmentKind:
            self.kind.addItem(kind.label, kind.value)
        self.clinician = QComboBox(self)
        self.clinician.setAccessibleName("Filter by clinician")
        self.clinician.addItem("All clinicians", None)
        self._wanted_clinician: str | None = None

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        caption = QLabel("&Filter:", self)
        caption.setBuddy(self.text)
        layout.addWidget(caption)
        layout.addWidget(self.text, 3)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.kind, 1)
        layout.addWidget(self.clinician, 1)

        self.text.textChanged.connect(self._changed)
        for combo in (self.status, self.kind, self.clinician):
            combo.currentIndexChanged.connect(self._changed)

    def set_clinicians(self, staff: list[StaffMember]) -> None:
        wanted = self._wanted_clinician or self.clinician.currentData()
        self.clinician.blockSignals(True)
        self.clinician.clear()
        self.clinician.addItem("All clinicians", None)
        for member in staff:
            self.clinician.addItem(member.name, str(member.id))
        found = self.clinician.findData(wanted) if wanted else 0
        self.clinician.setCurrentIndex(max(found, 0))
        self.clinician.blockSignals(False)
        self._wanted_clinician = None
        self._changed()

    def current(self) -> ScheduleFilter:
        kind = self.kind.currentData()
        clinician = self.clinician.currentData()
        return ScheduleFilter(
            text=self.text.text(),
            states=frozenset(DisplayState(value) for value in self.status.currentData() or []),
            kind=AppointmentKind(kind) if kind else None,
            clinician_id=UUID(clinician) if clinician else None,
        )

    def _changed(self) -> None:
        self.filterChanged.emit(self.current())

    # --- remembered across restarts -----------------------------------------------------------
    def save(self, settings: QSettings) -> None:
        settings.beginGroup("schedule/filter")
        settings.setValue("text", self.text.text())
        settings.setValue("status", self.status.currentIndex())
        settings.setValue("kind", self.kind.currentData() or "")
        settings.setValue("clinician", self.clinician.currentData() or "")
        settings.endGroup()

    def restore(self, settings: QSettings) -> None:
        settings.beginGroup("schedule/filter")
        text = str(settings.value("text", "") or "")
        status = int(settings.value("status", 0) or 0)  # type: ignore[call-overload]
        kind = str(settings.value("kind", "") or "")
        clinician = str(settings.value("clinician", "") or "")
        settings.endGroup()
        for widget in (self.text, self.status, self.kind, self.clinician):
            widget.blockSignals(True)
        self.text.setText(text)
        if 0 <= status < self.status.count():
            self.status.setCurrentIndex(status)
        self.kind.setCurrentIndex(max(self.kind.findData(kind), 0) if kind else 0)
        found = self.clinician.findData(clinician) if clinician else 0
        if found < 0:
            self._wanted_clinician = clinician  # the staff list arrives later
        self.clinician.setCurrentIndex(max(found, 0))
        for widget in (self.text, self.status, self.kind, self.clinician):
            widget.blockSignals(False)
        self._changed()
