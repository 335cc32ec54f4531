"""The Clinic Schedule's table model: appointments of a day (or week) with their live state.

Who is waiting comes from the waiting room service, which the model asks (it keeps no copy).
Status changes and the waiting clock emit `dataChanged` for the rows concerned only; a reset
happens only when the shown range changes (another day or week).
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from app.services.waiting_room_service import WaitingRoomService
from app.views.date_text import date_text, short_date_text, time_text
from app.views.icons import icon, kind_icon, status_icon
from app.views.phone_attempt_text import attempt_summary
from app.views.schedule_columns import HEADERS, Column, Role
from shared.clock import Clock
from shared.enums import AppointmentKind, AppointmentStatus, DisplayState, SyncState
from shared.records import NOT_INVITED, Appointment
from shared.status import (
    WAITING_WINDOW,
    display_state,
    early_since,
    format_waiting,
    waiting_seconds,
)

_Index = QModelIndex | QPersistentModelIndex
_GREYED = QColor("#8a949e")
_WAITING_BACKGROUND = QColor("#e6f5ec")
_REJECTED_BACKGROUND = QColor("#fdecea")
_STATE_ORDER = {state: order for order, state in enumerate(DisplayState)}
_INACTIVE = frozenset({DisplayState.TAKEN, DisplayState.CANCELLED, DisplayState.NO_SHOW})
# The view asks data() for ~8 roles of every visible cell on each paint, and rowCount() and
# columnCount() for every index it makes: these answer without Python's enum machinery.
_COLUMNS = tuple(Column)
_COLUMN_COUNT = len(_COLUMNS)
_CENTRED = frozenset({Column.WAITING, Column.CALL, Column.ACTIONS})
_STRUCK = frozenset({Column.TIME, Column.PATIENT})
_ANSWERED_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.AccessibleTextRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.TextAlignmentRole,
        *Role,
    }
)


_INVITE_WORDS = {
    "queued": "being sent",
    "sent": "sent",
    "failed": "could not be sent — resend it or copy the patient link",
    NOT_INVITED: "not sent yet (booked by the hospital system) — Invite from the row's actions",
}
_INVITE_ICONS = {"failed": "invite-failed", NOT_INVITED: "not-invited"}
_SYNC_ICONS = {SyncState.PENDING: "pending", SyncState.REJECTED: "sync-rejected"}


def _not_invited(appointment: Appointment, state: DisplayState) -> bool:
    """Booked by the hospital's system and not invited yet: the row says so."""
    return state is DisplayState.SCHEDULED and appointment.invite_status == NOT_INVITED


def _sync_note(appointment: Appointment) -> str:
    """What the row's sync marker means, for its tooltip and screen readers."""
    if appointment.sync_state is SyncState.PENDING:
        return "\nSaved on this computer; not yet sent to the server."
    if appointment.sync_state is SyncState.REJECTED:
        return ("\nThe server refused this change: " + appointment.sync_message
                + "\nEdit it to try again, or discard it (Needs attention).")
    return ""


def _local(at: datetime) -> datetime:
    return at.astimezone()


class ScheduleModel(QAbstractTableModel):
    def __init__(
        self, clock: Clock, waiting_room: WaitingRoomService, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._waiting_room = waiting_room
        self._rows: list[Appointment] = []
        self._row_of: dict[UUID, int] = {}
        self._states: dict[UUID, DisplayState] = {}
        self._time_texts: dict[UUID, str] = {}
        self._search_texts: dict[int, str] = {}  # by UUID.int
        self._range: tuple[datetime, datetime] | None = None
        self._show_date = False
        self._now = clock.now()
        self._sort_column = Column.TIME
        self._descending = False
        #: Signed in to a server: waiting rows show a call button.
        self.calls_enabled = False
        waiting_room.arrivalChanged.connect(self._arrival_changed)
        waiting_room.ticked.connect(self.tick)

    # --- what the view asks ------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else _COLUMN_COUNT

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.ToolTipRole and section == Column.ACTIONS:
            return "Actions"
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ANSWERED_ROLES or not index.isValid():
            return None  # the delegate asks for many roles per cell on every paint
        if not 0 <= index.row() < len(self._rows):
            return None
        appointment = self._rows[index.row()]
        if role == Role.APPOINTMENT:
            return appointment
        column = _COLUMNS[index.column()]
        # Answered before the state is worked out: most cells ask these and need no state.
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter if column in _CENTRED else None
        if role == Qt.ItemDataRole.FontRole and column not in _STRUCK:
            return None
        if role == Qt.ItemDataRole.DisplayRole and column is Column.TIME:
            return self._time_text(appointment)
        state = self.state_of(appointment)
        if role == Role.STATE:
            return state
        if role == Role.WAITING_SECONDS:
            return self._waiting(appointment, state)
        if role == Role.SORT:
            return self.sort_key(appointment, column)[0]
        if role == Qt.ItemDataRole.ForegroundRole:
            return _GREYED if state in _INACTIVE else None
        if role == Qt.ItemDataRole.BackgroundRole:
            if appointment.sync_state is SyncState.REJECTED:
                return _REJECTED_BACKGROUND
            return _WAITING_BACKGROUND if state is DisplayState.WAITING else None
        if role == Qt.ItemDataRole.FontRole:
            if state is DisplayState.CANCELLED:
                font = QFont()
                font.setStrikeOut(True)
                return font
            return None
        return self._column_data(appointment, column, state, role)

    def _column_data(
        self, appointment: Appointment, column: Column, state: DisplayState, role: int
    ) -> Any:
        display = role == Qt.ItemDataRole.DisplayRole
        if column is Column.TIME:
            if display:
                return self._time_text(appointment)
        elif column is Column.PATIENT:
            if display:
                return appointment.patient.name
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._patient_tooltip(appointment) + _sync_note(appointment)
            if role == Qt.ItemDataRole.DecorationRole:
                name = _SYNC_ICONS.get(appointment.sync_state)
                if name is None and appointment.status is AppointmentStatus.SCHEDULED:
                    name = _INVITE_ICONS.get(appointment.invite_status)
                return icon(name) if name else None
            if role == Qt.ItemDataRole.AccessibleTextRole and appointment.sync_state is not \
                    SyncState.SYNCED:
                return appointment.patient.name + _sync_note(appointment)
        elif column is Column.KIND:
            text = self._kind_text(appointment)
            if display or role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                return text if display else f"{text} appointment"
            if role == Qt.ItemDataRole.DecorationRole:
                return kind_icon(appointment.kind)
        elif column is Column.CLINICIAN:
            if display:
                return appointment.clinician.name
        elif column is Column.STATUS:
            if display:
                # Short enough for the column; the tooltip says the rest.
                return self._status_text(appointment, state)
            if role == Qt.ItemDataRole.DecorationRole:
                return status_icon(state)
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._status_tooltip(appointment, state)
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return (f"Status: {self._status_text(appointment, state)}. "
                        f"{self._status_tooltip(appointment, state)}")
        elif column is Column.WAITING:
            seconds = self._waiting(appointment, state)
            if display:
                return format_waiting(seconds)
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                if seconds is None:
                    return None
                return f"Waiting for {format_waiting(seconds)} (minutes:seconds)"
        elif column is Column.NOTES:
            notes = appointment.notes
            if state is DisplayState.CANCELLED and appointment.cancel_reason:
                notes = f"Cancelled: {appointment.cancel_reason}" + (f" — {notes}" if notes else "")
            if display:
                return notes.splitlines()[0] if notes else ""
            if role == Qt.ItemDataRole.ToolTipRole:
                return notes or None
        elif column is Column.CALL:
            if state is DisplayState.WAITING and self.calls_enabled:
                if role == Qt.ItemDataRole.DecorationRole:
                    return icon("call-start")
                if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                    kind = "phone" if appointment.kind is AppointmentKind.PHONE else "video"
                    return f"Start the {kind} call with {appointment.patient.name} (Enter)"
        elif column is Column.ACTIONS:
            if display:
                return "⋯"
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                return "Actions for this appointment"
        return None

    # --- sorting -------------------------------------------------------------------------------
    # The model keeps its rows sorted itself (the proxy only filters): Python's sort with a key
    # is fast, where a proxy sort calls back into Python for every comparison.
    def sort_key(self, appointment: Appointment, column: Column) -> tuple[Any, ...]:
        """The value a column sorts by, then start time and id so ties keep a stable order."""
        key: Any
        if column is Column.TIME:
            key = appointment.start.timestamp()
        elif column is Column.PATIENT:
            key = appointment.patient.name.casefold()
        elif column is Column.KIND:
            key = appointment.kind.value
        elif column is Column.CLINICIAN:
            key = appointment.clinician.name.casefold()
        elif column is Column.STATUS:
            key = _STATE_ORDER[self.state_of(appointment)]
        elif column is Column.WAITING:
            seconds = self._waiting(appointment, self.state_of(appointment))
            key = -1 if seconds is None else seconds
        elif column is Column.NOTES:
            key = appointment.notes.casefold()
        else:
            key = 0
        return (key, appointment.start, str(appointment.id))

    def _in_order(self, first: Appointment, second: Appointment) -> bool:
        a = self.sort_key(first, self._sort_column)
        b = self.sort_key(second, self._sort_column)
        return a >= b if self._descending else a <= b

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(Column):
            return
        self._sort_column = Column(column)
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        moving = [(index, self._rows[index.row()].id, index.column()) for index in before]
        self._sort_rows()
        self.changePersistentIndexList(
            before, [self.index(self._row_of[key], column) for _, key, column in moving]
        )
        self.layoutChanged.emit()

    def _sort_rows(self) -> None:
        self._now = self._clock.now()
        column = self._sort_column
        self._rows.sort(key=lambda a: self.sort_key(a, column), reverse=self._descending)
        self._row_of = {appointment.id: row for row, appointment in enumerate(self._rows)}

    def _insert_position(self, appointment: Appointment) -> int:
        low, high = 0, len(self._rows)
        while low < high:
            middle = (low + high) // 2
            if self._in_order(self._rows[middle], appointment):
                low = middle + 1
            else:
                high = middle
        return low

    def _reposition(self, row: int) -> int:
        """Move one row whose sort value changed to its place; return where it is now."""
        appointment = self._rows[row]
        before_ok = row == 0 or self._in_order(self._rows[row - 1], appointment)
        after_ok = row == len(self._rows) - 1 or self._in_order(appointment, self._rows[row + 1])
        if before_ok and after_ok:
            return row
        rest = self._rows[:row] + self._rows[row + 1 :]
        low, high = 0, len(rest)
        while low < high:
            middle = (low + high) // 2
            if self._in_order(rest[middle], appointment):
                low = middle + 1
            else:
                high = middle
        # Qt counts the destination before the move: past the moved row it is one more.
        destination = low + 1 if low >= row else low
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
        rest.insert(low, appointment)
        self._rows = rest
        self._row_of = {a.id: position for position, a in enumerate(self._rows)}
        self.endMoveRows()
        return low

    # --- derived values ------------------------------------------------------------------------
    def state_of(self, appointment: Appointment) -> DisplayState:
        return display_state(
            appointment.status, appointment.start, self._waiting_room.arrived_at(appointment.id),
            self._now,
        )

    def _waiting(self, appointment: Appointment, state: DisplayState) -> int | None:
        if state is not DisplayState.WAITING:
            return None
        return waiting_seconds(self._waiting_room.arrived_at(appointment.id), self._now)

    def _time_text(self, appointment: Appointment) -> str:
        # Kept per appointment for the range shown: every repaint asks, QLocale is slow.
        text = self._time_texts.get(appointment.id)
        if text is None:
            start, end = _local(appointment.start), _local(appointment.end)
            text = f"{time_text(start)}–{time_text(end)}"
            if self._show_date:
                text = f"{short_date_text(start.date())} {text}"
            self._time_texts[appointment.id] = text
        return text

    def search_text(self, row: int) -> str:
        """The row's patient name and MRN, casefolded, for the filter (kept per appointment)."""
        appointment = self._rows[row]
        key = appointment.id.int  # hashing a UUID runs Python code; its int hashes in C
        text = self._search_texts.get(key)
        if text is None:
            patient = appointment.patient
            # NUL between them: a filter text (one line) never matches across the two.
            text = f"{patient.name.casefold()}\0{patient.mrn.casefold()}"
            self._search_texts[key] = text
        return text

    @staticmethod
    def _kind_text(appointment: Appointment) -> str:
        if appointment.kind is AppointmentKind.GROUP:
            return f"Group ({len(appointment.participants) + 1})"
        return appointment.kind.label

    @staticmethod
    def _patient_tooltip(appointment: Appointment) -> str:
        patient = appointment.patient
        born = date_text(patient.date_of_birth) if patient.date_of_birth else "not recorded"
        text = f"{patient.name}\nDate of birth: {born}\nMRN: {patient.mrn or 'not recorded'}"
        invite = _INVITE_WORDS.get(appointment.invite_status)
        if invite:
            text += f"\nEmail invite: {invite}"
            if appointment.invite_status == "failed" and appointment.invite_error:
                text += f" ({appointment.invite_error})"
        return text

    def _status_text(self, appointment: Appointment, state: DisplayState) -> str:
        early = self.early_since(appointment)
        people = self._group_waiting(appointment)
        if early is not None:
            return f"{people or 'In the waiting room'} early (since {time_text(early)})"
        if people and state is DisplayState.WAITING:
            return people
        called = appointment.last_phone_attempt
        if called is not None and state is DisplayState.SCHEDULED:
            return attempt_summary(called, self._today())
        return "Not invited" if _not_invited(appointment, state) else state.label

    def _today(self) -> date:
        return _local(self._now).date()

    def _call_note(self, appointment: Appointment) -> str:
        """The latest call to the patient's phone, for the status tooltip ("" when none)."""
        called = appointment.last_phone_attempt
        if called is None:
            return ""
        return (f" Last call to the patient's phone: {attempt_summary(called, self._today())}"
                f", by {called.caller_name} (every call: Phone call attempts in the row's "
                "actions).")

    def _group_waiting(self, appointment: Appointment) -> str:
        """ "3 of 8 waiting" for a group appointment whose people are arriving, else empty."""
        if appointment.kind is not AppointmentKind.GROUP:
            return ""
        people = self._waiting_room.people(appointment.id)
        if not people:
            return ""
        return f"{people} of {len(appointment.participants) + 1} waiting"

    def early_since(self, appointment: Appointment) -> datetime | None:
        """When its patient came into the waiting room, if before the green window."""
        return early_since(appointment.status, appointment.start,
                           self._waiting_room.arrived_at(appointment.id), self._now)

    def _status_tooltip(self, appointment: Appointment, state: DisplayState) -> str:
        return self._state_tooltip(appointment, state) + self._call_note(appointment)

    def _state_tooltip(self, appointment: Appointment, state: DisplayState) -> str:
        arrived = self._waiting_room.arrived_at(appointment.id)
        if state is DisplayState.WAITING and arrived is not None:
            return f"{state.description} since {time_text(arrived)}."
        if state is DisplayState.SCHEDULED and arrived is not None:
            green = time_text(appointment.start - WAITING_WINDOW)
            return (f"{state.description}. The patient is in the waiting room early (since "
                    f"{time_text(arrived)}); the row turns green at {green}, "
                    "5 minutes before the start.")
        if _not_invited(appointment, state):
            return (f"{state.description}. Booked by the hospital system; the patient has not "
                    "been invited yet (Invite in the row's actions).")
        return f"{state.description}."

    # --- what the services tell it -------------------------------------------------------------
    @property
    def shown_range(self) -> tuple[datetime, datetime] | None:
        return self._range

    def set_range(
        self, start: datetime, end: datetime, appointments: list[Appointment], show_date: bool
    ) -> None:
        """Show another day or week: the one place the model resets."""
        self.beginResetModel()
        self._range = (start, end)
        self._show_date = show_date
        self._rows = list(appointments)
        self._sort_rows()
        self._states = {}
        self._time_texts = {}
        self._search_texts = {}
        for appointment in self._rows:
            self._track_state(appointment)
        self.endResetModel()

    def appointment_at(self, row: int) -> Appointment:
        return self._rows[row]

    def row_of(self, appointment_id: UUID) -> int | None:
        return self._row_of.get(appointment_id)

    def upsert(self, appointment: Appointment) -> None:
        """An appointment was written: update its row, add it, or drop it if it left the range."""
        row = self._row_of.get(appointment.id)
        in_range = self._range is not None and self._range[0] <= appointment.start < self._range[1]
        self._time_texts.pop(appointment.id, None)
        self._search_texts.pop(appointment.id.int, None)
        if row is not None and not in_range:
            self._remove_row(row)
        elif row is not None:
            # Writes reach the model in commit order (one store thread, queued signals), so
            # the newest always wins; versions cannot decide (the server renumbers them).
            self._rows[row] = appointment
            self._track_state(appointment)
            self._emit_row(row)
        elif in_range:
            row = self._insert_position(appointment)
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.insert(row, appointment)
            for later in range(row, len(self._rows)):
                self._row_of[self._rows[later].id] = later
            self._track_state(appointment)
            self.endInsertRows()

    def remove(self, appointment_id: UUID) -> None:
        """The appointment is gone from the store (or from what this user may see)."""
        row = self._row_of.get(appointment_id)
        if row is not None:
            self._remove_row(row)

    def apply_sync(self, appointments: list[Appointment], gone: set[UUID]) -> None:
        """The sync changed records: update or add those in range, drop the `gone` ones."""
        for appointment in appointments:
            self.upsert(appointment)
        for appointment_id in gone:
            self.remove(appointment_id)

    def waiting_count(self) -> int:
        """Rows shown green now; only patients online can be waiting, so only they are counted."""
        return sum(1 for state in self._states.values() if state is DisplayState.WAITING)

    def early_count(self) -> int:
        """Patients in the waiting room before their row may turn green."""
        return sum(1 for state in self._states.values() if state is DisplayState.SCHEDULED)

    def _track_state(self, appointment: Appointment) -> None:
        """Rows whose patient is online are the ones the clock can change; remember their state."""
        if self._waiting_room.arrived_at(appointment.id) is not None:
            self._states[appointment.id] = self.state_of(appointment)

    def _remove_row(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        removed = self._rows.pop(row)
        self.endRemoveRows()
        self._row_of.pop(removed.id, None)
        self._states.pop(removed.id, None)
        for later in range(row, len(self._rows)):
            self._row_of[self._rows[later].id] = later

    def _arrival_changed(self, appointment_id: UUID, arrived_at: datetime | None) -> None:
        """The patient entered (a time) or left (None) the waiting room."""
        if arrived_at is None:
            self._states.pop(appointment_id, None)
        row = self._row_of.get(appointment_id)
        if row is not None:
            self._now = self._clock.now()
            self._track_state(self._rows[row])
            self._emit_row(row)

    def tick(self) -> None:
        """Advance the clock: waiting times count on, and early arrivals turn green on time."""
        self._now = self._clock.now()
        for appointment_id in list(self._states):
            row = self._row_of[appointment_id]
            state = self.state_of(self._rows[row])
            if state is not self._states[appointment_id]:
                self._states[appointment_id] = state
                self._emit_row(row)
            elif state is DisplayState.WAITING:
                row = self._reposition(row)
                index = self.index(row, Column.WAITING)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, Role.SORT])

    def _emit_row(self, row: int) -> None:
        """Repaint one row, after moving it if its new values sort it elsewhere."""
        row = self._reposition(row)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))
