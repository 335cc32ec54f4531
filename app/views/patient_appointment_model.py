"""One patient's appointments in the Patients view: when, status, kind, clinician, invite."""

from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Qt

from app.views.date_text import date_time_text
from app.views.icons import icon
from app.views.row_table_model import Index, RowTableModel
from shared.enums import AppointmentStatus, SyncState
from shared.records import NOT_INVITED, Appointment

HEADERS = ("When", "Status", "Kind", "Clinician", "Invite")
WHEN, STATUS, KIND, CLINICIAN, INVITE = range(5)
APPOINTMENT_ROLE = Qt.ItemDataRole.UserRole + 1

_STATUS_WORDS = {
    AppointmentStatus.SCHEDULED: "Scheduled",
    AppointmentStatus.TAKEN: "Taken",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.NO_SHOW: "No-show",
}
_STATUS_ICONS = {
    AppointmentStatus.SCHEDULED: "status-scheduled",
    AppointmentStatus.TAKEN: "status-taken",
    AppointmentStatus.CANCELLED: "status-cancelled",
    AppointmentStatus.NO_SHOW: "status-no-show",
}
INVITE_WORDS = {
    "": "Not invited",
    "queued": "Invite being sent",
    "sent": "Invited",
    "failed": "Invite failed",
    NOT_INVITED: "Not invited",
}


class PatientAppointmentModel(RowTableModel[Appointment]):
    """`upcoming`: appointments not over yet, soonest first; else the past, newest first."""

    def __init__(self, upcoming: bool, parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent)
        self.upcoming = upcoming

    def set_appointments(self, appointments: tuple[Appointment, ...], now: datetime) -> None:
        if self.upcoming:
            rows = [a for a in appointments if a.end > now]
        else:
            rows = sorted((a for a in appointments if a.end <= now),
                          key=lambda a: a.start, reverse=True)
        self.replace_rows(rows)

    def appointment_at(self, row: int) -> Appointment:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        appointment = self.row_record(index)
        if appointment is None:
            return None
        column = index.column()
        if role == APPOINTMENT_ROLE:
            return appointment
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == WHEN:
                return date_time_text(appointment.start)
            if column == STATUS:
                return _STATUS_WORDS[appointment.status]
            if column == KIND:
                return appointment.kind.label
            if column == CLINICIAN:
                return appointment.clinician.name
            return INVITE_WORDS.get(appointment.invite_status, appointment.invite_status)
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS:
            return icon(_STATUS_ICONS[appointment.status])
        if role == Qt.ItemDataRole.ToolTipRole and column == WHEN:
            if appointment.sync_state is SyncState.PENDING:
                return "Saved on this computer; not yet sent to the server."
            if appointment.sync_state is SyncState.REJECTED:
                return f"The server refused this booking: {appointment.sync_message}"
        return None
