"""Book a whole patient list: a clinician, a day, a slot length; consecutive slots proposed
around the clinician's bookings; each booked as an ordinary appointment, or the list booked
as one group appointment."""

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.patient_service import PatientService
from app.services.schedule_service import ScheduleService
from app.views.date_text import edit_date_format, time_text
from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind, Role
from shared.errors import KnownError
from shared.records import Appointment, ListEntry, Participant, Patient, PatientList
from shared.slot_plan import ProposedSlot, propose_slots

#: The day's bookings end here (a clinic's afternoon); later slots are flagged.
DAY_END = time(18, 0)


def _draft(patient: Patient) -> PatientDraft:
    return PatientDraft(patient.name, patient.date_of_birth, patient.mrn, patient.email,
                        patient.phone, id=patient.id)


class BookListDialog(QDialog):
    def __init__(self, patients: PatientService, schedule: ScheduleService,
                 lists: list[PatientList], current: PatientList | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Book a patient list")
        self.setMinimumWidth(620)
        self._patients = patients
        self._schedule = schedule
        self._lists = lists
        self._clinicians = [m for m in schedule.staff if m.role is Role.CLINICIAN]
        self._entries: list[ListEntry] = []
        self._booked: list[Appointment] = []
        self.slots: list[ProposedSlot] = []
        #: Per patient name, what happened when booking (for the summary and tests).
        self.outcomes: dict[str, str] = {}
        self._waiting = 0

        self.list_combo = QComboBox(self)
        for listed in lists:
            self.list_combo.addItem(f"{listed.name} ({len(listed.patient_ids)})")
        if current is not None and current in lists:
            self.list_combo.setCurrentIndex(lists.index(current))
        self.clinician_combo = QComboBox(self)
        for clinician in self._clinicians:
            self.clinician_combo.addItem(clinician.name)
        self.day_edit = QDateEdit(self)
        self.day_edit.setDisplayFormat(edit_date_format())
        self.day_edit.setCalendarPopup(True)
        today = schedule.now().astimezone().date()
        self.day_edit.setDate(QDate(today.year, today.month, today.day).addDays(1))
        self.from_edit = QTimeEdit(QTime(9, 0), self)
        self.length_spin = QSpinBox(self)
        self.length_spin.setRange(5, 240)
        self.length_spin.setSingleStep(5)
        self.length_spin.setValue(15)
        self.length_spin.setSuffix(" min")
        self.kind_combo = QComboBox(self)
        for kind in (AppointmentKind.VIDEO, AppointmentKind.PHONE):
            self.kind_combo.addItem(kind.label, kind.value)
        form = QFormLayout()
        for text, field in (("&List", self.list_combo), ("&Clinician", self.clinician_combo),
                            ("&Day", self.day_edit), ("&From", self.from_edit),
                            ("Slot &length", self.length_spin), ("&Kind", self.kind_combo)):
            label = QLabel(text, self)
            label.setBuddy(field)
            field.setAccessibleName(text.replace("&", ""))
            form.addRow(label, field)

        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Patient", "Time", "Note"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Proposed slots")
        self._outcome = ""
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.book_button = QPushButton("&Book all", self)
        self.group_button = QPushButton("Book as one &group appointment", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.book_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.group_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.book_button.clicked.connect(self.book_all)
        self.group_button.clicked.connect(self.book_group)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)

        self.list_combo.currentIndexChanged.connect(self._load_list)
        for signal in (self.clinician_combo.currentIndexChanged, self.day_edit.dateChanged):
            signal.connect(self._load_day)
        for signal in (self.from_edit.timeChanged, self.length_spin.valueChanged):
            signal.connect(self._propose)
        self._load_list()
        self._load_day()

    # --- what the proposal needs -----------------------------------------------------------
    def _clinician_index(self) -> int:
        return self.clinician_combo.currentIndex()

    def _day_start(self) -> datetime:
        day = self.day_edit.date()
        return datetime(day.year(), day.month(), day.day()).astimezone().astimezone(UTC)

    def _load_list(self) -> None:
        index = self.list_combo.currentIndex()
        if 0 <= index < len(self._lists):
            self._patients.list_entries(self._lists[index].id, self._list_loaded)

    def _list_loaded(self, entries: list[ListEntry] | None, error: KnownError | None) -> None:
        self._entries = entries or []
        if error is not None:
            self.summary.setText(str(error))
        self._propose()

    def _load_day(self) -> None:
        start = self._day_start()
        self._patients.appointments_between(start, start + timedelta(days=1), self._day_loaded)

    def _day_loaded(self, found: list[Appointment] | None, error: KnownError | None) -> None:
        index = self._clinician_index()
        clinician = self._clinicians[index] if 0 <= index < len(self._clinicians) else None
        self._booked = [a for a in found or [] if clinician and a.clinician.id == clinician.id]
        if error is not None:
            self.summary.setText(str(error))
        self._propose()

    def _propose(self) -> None:
        at = self.from_edit.time()
        first = self._day_start() + timedelta(hours=at.hour(), minutes=at.minute())
        day_end = self._day_start() + timedelta(hours=DAY_END.hour)
        self.slots = propose_slots([e.patient for e in self._entries], first,
                                   self.length_spin.value(), self._booked, day_end,
                                   self._schedule.now())
        self.table.setRowCount(len(self.slots))
        for row, slot in enumerate(self.slots):
            note = slot.conflict
            if not note and slot.moved_past:
                times = ", ".join(f"{time_text(a.start)}–{time_text(a.end)}"
                                  for a in slot.moved_past)
                note = f"After the booking{'s' if len(slot.moved_past) > 1 else ''} {times}"
            for column, text in enumerate((slot.patient.name,
                                           f"{time_text(slot.start)}–{time_text(slot.end)}",
                                           note)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        conflicts = sum(1 for slot in self.slots if slot.conflict)
        proposal = f"{len(self.slots)} slots proposed" + (
            f"; {conflicts} cannot be booked as shown." if conflicts else ".")
        # What the last Book did stays in view above the new proposal (the day reloads after it).
        self.summary.setText(f"{self._outcome}\n{proposal}" if self._outcome else proposal)
        can_book = bool(self.slots) and self._clinician_index() >= 0
        self.book_button.setEnabled(can_book)
        self.group_button.setEnabled(can_book)

    # --- booking ---------------------------------------------------------------------------
    def book_all(self) -> None:
        """Each slot as its own booking: each validated and queued, each may be refused."""
        clinician = self._clinicians[self._clinician_index()]
        kind = AppointmentKind(self.kind_combo.currentData())
        self._start_booking(len(self.slots))
        for slot in self.slots:
            draft = AppointmentDraft(_draft(slot.patient), clinician.id, slot.start,
                                     slot.minutes, kind)
            self._schedule.save_appointment(draft, self._done_for(slot.patient.name))

    def book_group(self) -> None:
        """The whole list as one group appointment: the first patient, the others invited."""
        if not self.slots:
            return
        clinician = self._clinicians[self._clinician_index()]
        first, *others = [slot.patient for slot in self.slots]
        length = self.length_spin.value()
        draft = AppointmentDraft(_draft(first), clinician.id, self.slots[0].start, length,
                                 AppointmentKind.GROUP,
                                 participants=[Participant(p.name, p.email) for p in others])
        self._start_booking(1)
        self._schedule.save_appointment(draft, self._done_for(f"Group ({first.name})"))

    def _start_booking(self, count: int) -> None:
        self.outcomes = {}
        self._waiting = count
        self.book_button.setEnabled(False)
        self.group_button.setEnabled(False)

    def _done_for(self, name: str) -> Callable[[Appointment | None, KnownError | None], None]:
        return lambda saved, error: self._one_done(name, saved, error)

    def _one_done(self, name: str, saved: Appointment | None, error: KnownError | None) -> None:
        self.outcomes[name] = "booked" if saved is not None else str(error)
        self._waiting -= 1
        if self._waiting > 0:
            return
        refused = {n: why for n, why in self.outcomes.items() if why != "booked"}
        booked = len(self.outcomes) - len(refused)
        text = f"Booked {booked} of {len(self.outcomes)}; they go to the server with your " \
               "other changes."
        if refused:
            text += " Not booked: " + " ".join(f"{n}: {why}" for n, why in refused.items())
        self._outcome = text
        self.summary.setText(text)
        self._load_day()  # the new bookings now stand in the way of another run
