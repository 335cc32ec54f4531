"""A patient list as the Lists tab shows it: each patient with their next appointment and
whether they were invited to it."""

from typing import Any

from PySide6.QtCore import QObject, Qt

from app.views.date_text import date_time_text
from app.views.row_table_model import Index, RowTableModel
from shared.records import NOT_INVITED, ListEntry

HEADERS = ("Name", "MRN", "Next appointment", "Invited")
NAME, MRN, NEXT, INVITED = range(4)
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1


def invite_text(entry: ListEntry) -> str:
    booked = entry.next_appointment
    if booked is None:
        return "—"
    if entry.invited:
        return "Yes"
    return {"failed": "Failed", NOT_INVITED: "Not yet"}.get(booked.invite_status, "No")


class ListEntryModel(RowTableModel[ListEntry]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent)

    def set_entries(self, entries: list[ListEntry]) -> None:
        self.replace_rows(list(entries))

    def entry_at(self, row: int) -> ListEntry:
        return self._rows[row]

    def entries(self) -> list[ListEntry]:
        return list(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self.row_record(index)
        if entry is None:
            return None
        if role == ENTRY_ROLE:
            return entry
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        column = index.column()
        if column == NAME:
            return entry.patient.name
        if column == MRN:
            return entry.patient.mrn
        if column == NEXT:
            booked = entry.next_appointment
            if booked is None:
                return "None booked" if role == Qt.ItemDataRole.DisplayRole else "No appointment"
            return f"{date_time_text(booked.start)} · {booked.clinician.name}"
        return invite_text(entry)
