"""The Patients view's search results: one row per patient (name, born, MRN, phone, email)."""

from typing import Any

from PySide6.QtCore import QObject, Qt

from app.views.date_text import birth_date_text
from app.views.row_table_model import Index, RowTableModel
from shared.records import Patient

HEADERS = ("Name", "Born", "MRN", "Phone", "Email")
NAME, BORN, MRN, PHONE, EMAIL = range(5)
#: The Patient record itself.
PATIENT_ROLE = Qt.ItemDataRole.UserRole + 1


class PatientModel(RowTableModel[Patient]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent)

    def set_patients(self, patients: list[Patient]) -> None:
        self.replace_rows(list(patients))

    def patient_at(self, row: int) -> Patient:
        return self._rows[row]

    def row_of(self, patient: Patient) -> int | None:
        return next((n for n, p in enumerate(self._rows) if p.id == patient.id), None)

    def replace(self, patient: Patient) -> None:
        """A patient's details were corrected: repaint their row only."""
        row = self.row_of(patient)
        if row is None:
            return
        self._rows[row] = patient
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        patient = self.row_record(index)
        if patient is None:
            return None
        if role == PATIENT_ROLE:
            return patient
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            column = index.column()
            if column == NAME:
                return patient.name
            if column == BORN:
                born = patient.date_of_birth
                if born is None:
                    return "" if role == Qt.ItemDataRole.DisplayRole else "Not recorded"
                return birth_date_text(born)
            return {MRN: patient.mrn, PHONE: patient.phone, EMAIL: patient.email}[column]
        return None
