"""The dialog that books a new appointment or edits one: patient, time, clinician, invitees."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import shiboken6
from PySide6.QtCore import QDate, QDateTime, QEvent, QObject, QStringListModel, Qt, QTimer, Slot
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.services.schedule_service import ScheduleService
from app.ui.common.date_sections import select_sections_on_click
from app.ui.common.form_section import add_section
from app.ui.schedule.participants_editor import ParticipantsEditor
from app.views.date_text import (
    date_text,
    date_time_text,
    edit_date_format,
    edit_date_time_format,
    time_text,
)
from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind, Role
from shared.errors import FieldError, KnownError, ValidationFailed
from shared.records import (
    Appointment,
    Location,
    Patient,
    StaffMember,
)
from shared.validation import MAX_DURATION_MINUTES, validate_appointment

SEARCH_DELAY_MS = 150
DEFAULT_DURATION_MINUTES = 20
#: Written before every error so that colour is not the only signal.
ERROR_PREFIX = "Error: "
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_QUARTER_HOUR_SECONDS = 15 * 60
#: The date edit's stand-in for "no date of birth": shown blank, read as None.
_NO_BIRTH_DATE = QDate(1899, 12, 31)
_FIRST_BIRTH_DATE = QDate(1970, 1, 1)


def _to_qdatetime(moment: datetime) -> QDateTime:
    """`moment` (aware) as a QDateTime in the workstation's zone."""
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))


def _to_utc(moment: QDateTime) -> datetime:
    # Through the epoch rather than a naive local datetime: in the hour that repeats when the
    # clocks go back, a naive time is ambiguous while the QDateTime knows which one it is.
    return _EPOCH + timedelta(milliseconds=moment.toMSecsSinceEpoch())


def _patient_text(patient: Patient) -> str:
    parts = [patient.name]
    if patient.mrn:
        parts.append(f"MRN {patient.mrn}")
    if patient.date_of_birth is not None:
        parts.append(f"born {date_text(patient.date_of_birth)}")
    if patient.email:
        parts.append(patient.email)
    return " — ".join(parts)


class AppointmentDialog(QDialog):
    """Create (no `appointment`) or edit an appointment; on success `saved` holds the record.

    The fields are public attributes so that the caller can focus one and tests can type in it.
    """

    def __init__(
        self,
        service: ScheduleService,
        parent: QWidget | None = None,
        appointment: Appointment | None = None,
        start: datetime | None = None,
        clinician_id: UUID | None = None,
        patient: Patient | None = None,
    ) -> None:
        """`patient`: a new booking for this patient (from the Patients view)."""
        super().__init__(parent)
        self._preferred_clinician = clinician_id
        self._service = service
        self._appointment = appointment
        self._patient_id = None if appointment is None else appointment.patient.id
        self._found: dict[str, Patient] = {}
        self._search_request = 0
        self._saving = False
        #: The user chose to throw the typed new patient away: Cancel may now close.
        self._discarding = False
        #: The question asked on Cancel over a typed new patient, while it is open.
        self.discard_box: QMessageBox | None = None
        #: field name of validation → (error label, widget to focus)
        self._error_fields: dict[str, tuple[QLabel, QWidget]] = {}
        self._clinicians = [m for m in service.staff if m.role is Role.CLINICIAN]
        self._locations: list[Location] = list(service.locations)
        self.saved: Appointment | None = None

        if appointment is None and patient is not None:
            self.setWindowTitle(f"New appointment — {patient.name}")
        elif appointment is None:
            self.setWindowTitle("New appointment")
        else:
            self.setWindowTitle(f"Edit appointment — {appointment.patient.name}")
        self.setMinimumWidth(560)
        self._build()
        if appointment is None:
            self.start_edit.setDateTime(self._default_start(start))
            if patient is not None:
                self._fill_patient(patient)
        else:
            self._fill(appointment)
        self._update_patient_state()
        self._update_end()
        self._kind_changed()
        chosen = appointment is not None or patient is not None
        (self.start_edit if chosen else self.search_edit).setFocus()
        # Sized before the window exists, so the first show needs no resize round trip.
        self._layout.activate()

    # --- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setAccessibleName("Problems with this appointment")
        self.summary.setStyleSheet(
            f"QLabel {{ color: {self._error_colour()}; border: 1px solid {self._error_colour()};"
            " border-left-width: 4px; border-radius: 3px; padding: 6px 8px; }"
        )
        self.summary.hide()

        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self._build_patient()
        self._build_appointment()
        self._build_participants()

        self.save_button = QPushButton("&Save", self)
        self.save_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)

        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.summary)
        self._layout.addLayout(self._form)
        self._layout.addWidget(buttons)
        self._set_tab_order()

    def _section(self, title: str) -> None:
        add_section(self._form, title, self)

    def _row(self, text: str, field: QWidget, focus: QWidget, error_key: str | None) -> QWidget:
        """Add a labelled row; `focus` is the label's buddy, `error_key` the validation field.

        Returns the widget placed in the form (`field`, or the holder of it and its error).
        """
        label = QLabel(text, self)
        label.setBuddy(focus)
        if not focus.accessibleName():
            # Qt names a field after its buddy label only when both share a parent; the error
            # holder below separates them, so a screen reader would hear no name.
            focus.setAccessibleName(text.replace("&", ""))
        if error_key is None:
            self._form.addRow(label, field)
            return field
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        error = QLabel(holder)
        error.setWordWrap(True)
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.setStyleSheet(f"QLabel {{ color: {self._error_colour()}; }}")
        error.hide()
        column.addWidget(error)
        self._error_fields[error_key] = (error, focus)
        self._form.addRow(label, holder)
        return holder

    def _line(self, *widgets: QWidget, stretch: bool = True) -> QWidget:
        """`widgets` side by side in one field; the first grows unless `stretch` pads the end."""
        line = QWidget(self)
        row = QHBoxLayout(line)
        row.setContentsMargins(0, 0, 0, 0)
        for position, widget in enumerate(widgets):
            row.addWidget(widget, 0 if stretch or position else 1)
        if stretch:
            row.addStretch(1)
        return line

    def _build_patient(self) -> None:
        self._section("Patient")
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Search name or MRN")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textEdited.connect(self._search_edited)
        self._search_model = QStringListModel(self)
        self.patient_completer = QCompleter(self._search_model, self)
        self.patient_completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        # Set on the widget but not through setCompleter: the edit keeps what was typed and
        # the pick fills the fields below instead.
        self.patient_completer.setWidget(self.search_edit)
        self.patient_completer.activated.connect(self._patient_chosen)  # the QString overload
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._search)
        self.new_patient_button = QPushButton("&New patient", self)
        self.new_patient_button.setToolTip("Clear the patient's details to enter a new patient")
        self.new_patient_button.clicked.connect(self._new_patient)
        search = self._line(self.search_edit, self.new_patient_button, stretch=False)
        self._row("&Find patient", search, self.search_edit, None)
        self.patient_state = QLabel(self)
        self.patient_state.setEnabled(False)  # the palette's quieter text
        self._form.addRow("", self.patient_state)

        self.name_edit = QLineEdit(self)
        self._row("Na&me", self.name_edit, self.name_edit, "patient.name")

        self.birth_edit = QDateEdit(self)
        self.birth_edit.setCalendarPopup(True)
        self.birth_edit.setDisplayFormat(edit_date_format())
        self.birth_edit.setDateRange(_NO_BIRTH_DATE, QDate.currentDate())
        self.birth_edit.setSpecialValueText(" ")  # blank rather than a made-up date
        self.birth_edit.setDate(_NO_BIRTH_DATE)
        self.birth_unknown = QCheckBox("&Unknown", self)
        self.birth_unknown.setToolTip("The date of birth is not known; leave it empty")
        self.birth_unknown.toggled.connect(self._birth_unknown_toggled)
        self.birth_unknown.clicked.connect(self._birth_unknown_clicked)
        self.birth_unknown.setChecked(True)
        birth = self._line(self.birth_edit, self.birth_unknown)
        self._row("Date of &birth", birth, self.birth_edit, "patient.date_of_birth")
        select_sections_on_click(self.birth_edit)
        self.birth_edit.installEventFilter(self)

        self.mrn_edit = QLineEdit(self)
        self.mrn_edit.setToolTip("Medical record number")
        self._row("M&RN", self.mrn_edit, self.mrn_edit, "patient.mrn")
        self.email_edit = QLineEdit(self)
        self.email_edit.setPlaceholderText("Needed for video and group invites")
        self._row("&Email", self.email_edit, self.email_edit, "patient.email")
        self.phone_edit = QLineEdit(self)
        self._row("P&hone", self.phone_edit, self.phone_edit, "patient.phone")

    def _build_appointment(self) -> None:
        self._section("Appointment")
        self.start_edit = QDateTimeEdit(self)
        self.start_edit.setCalendarPopup(True)
        self.start_edit.setDisplayFormat(edit_date_time_format())
        self.start_edit.dateTimeChanged.connect(self._update_end)
        self._row("Date and &time", self.start_edit, self.start_edit, "start")
        select_sections_on_click(self.start_edit)
        self.start_edit.installEventFilter(self)

        self.duration_spin = QSpinBox(self)
        self.duration_spin.setRange(5, MAX_DURATION_MINUTES)
        self.duration_spin.setSingleStep(5)
        self.duration_spin.setSuffix(" min")
        self.duration_spin.setValue(DEFAULT_DURATION_MINUTES)
        self.duration_spin.valueChanged.connect(self._update_end)
        self.end_label = QLabel(self)
        self.end_label.setEnabled(False)
        duration = self._line(self.duration_spin, self.end_label)
        self._row("&Duration", duration, self.duration_spin, "duration")

        self.kind_combo = QComboBox(self)
        for kind in AppointmentKind:
            self.kind_combo.addItem(kind.label, kind.value)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self._row("&Kind", self.kind_combo, self.kind_combo, None)

        self.clinician_combo = QComboBox(self)
        self.clinician_combo.setPlaceholderText("Choose a clinician")
        for member in self._clinicians:
            self.clinician_combo.addItem(member.name)
        ids = [member.id for member in self._clinicians]
        if self._preferred_clinician in ids:
            # The clinician whose schedule the user is looking at.
            self.clinician_combo.setCurrentIndex(ids.index(self._preferred_clinician))
        elif len(ids) == 1:
            self.clinician_combo.setCurrentIndex(0)
        self._row("&Clinician", self.clinician_combo, self.clinician_combo, "clinician")

        self.location_combo = QComboBox(self)
        self.location_combo.addItem("None")
        for location in self._locations:
            self.location_combo.addItem(location.label)
        self._row("&Location", self.location_combo, self.location_combo, "location")

        self.notes_edit = QPlainTextEdit(self)
        self.notes_edit.setTabChangesFocus(True)
        lines = self.notes_edit.fontMetrics().lineSpacing()
        self.notes_edit.setFixedHeight(4 * lines + 12)
        self._row("N&otes", self.notes_edit, self.notes_edit, "notes")

    def _build_participants(self) -> None:
        self.participants_editor = ParticipantsEditor(self._error_colour(), self)
        # The editor's parts, named as the dialog's fields (tab order, tests, focus on errors).
        self.participant_table = self.participants_editor.table
        self.add_participant_button = self.participants_editor.add_button
        self.remove_participant_button = self.participants_editor.remove_button
        self.participant_count = self.participants_editor.count_label
        self._participants_row = self._row(
            "P&articipants", self.participants_editor, self.participant_table, "participants"
        )

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.search_edit, self.new_patient_button, self.name_edit, self.birth_edit,
            self.birth_unknown, self.mrn_edit, self.email_edit, self.phone_edit,
            self.start_edit, self.duration_spin, self.kind_combo, self.clinician_combo,
            self.location_combo, self.notes_edit, self.participant_table,
            self.add_participant_button, self.remove_participant_button,
            self.save_button, self.cancel_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A date edit's Tab walks its own sections (day, month, year, hour...); in this form
        # Tab goes to the next field, like everywhere else. Arrows and typing still move sections.
        if (
            watched in (self.start_edit, self.birth_edit)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
            and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            forward = event.key() == Qt.Key.Key_Tab and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            )
            self.focusNextPrevChild(forward)
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        focus = QApplication.focusWidget()
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and focus is not None
            and self.participant_table.viewport().isAncestorOf(focus)
        ):
            event.accept()  # Enter finishes the participant cell being typed, not the dialog
            return
        super().keyPressEvent(event)

    def _error_colour(self) -> str:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        return "#ff8a80" if dark else "#b3261e"

    # --- filling ---------------------------------------------------------------------------
    def _default_start(self, start: datetime | None) -> QDateTime:
        if start is not None:
            return _to_qdatetime(start)
        seconds = int(self._service.now().timestamp())
        following = (seconds // _QUARTER_HOUR_SECONDS + 1) * _QUARTER_HOUR_SECONDS
        return QDateTime.fromSecsSinceEpoch(following)

    def _fill(self, appointment: Appointment) -> None:
        self._fill_patient(appointment.patient)
        self.start_edit.setDateTime(_to_qdatetime(appointment.start))
        self.duration_spin.setValue(appointment.duration_minutes)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(appointment.kind.value))
        if appointment.clinician not in self._clinicians:
            # No longer listed as a clinician here: keep the booking's own.
            self._clinicians.append(appointment.clinician)
            self.clinician_combo.addItem(appointment.clinician.name)
        self.clinician_combo.setCurrentIndex(self._clinicians.index(appointment.clinician))
        if appointment.location is not None:
            if appointment.location not in self._locations:
                self._locations.append(appointment.location)
                self.location_combo.addItem(appointment.location.label)
            self.location_combo.setCurrentIndex(self._locations.index(appointment.location) + 1)
        self.notes_edit.setPlainText(appointment.notes)
        for participant in appointment.participants:
            self.participants_editor.append(participant.name, participant.email)

    def _fill_patient(self, patient: Patient) -> None:
        self._patient_id = patient.id
        self.name_edit.setText(patient.name)
        birth = patient.date_of_birth
        self.birth_unknown.setChecked(birth is None)
        if birth is not None:
            self.birth_edit.setDate(QDate(birth.year, birth.month, birth.day))
        self.mrn_edit.setText(patient.mrn)
        self.email_edit.setText(patient.email)
        self.phone_edit.setText(patient.phone)
        self._update_patient_state()

    # --- reading ---------------------------------------------------------------------------
    def draft(self) -> AppointmentDraft:
        """The appointment as the fields now hold it (`id` set when editing)."""
        birth: date | None = None
        picked = self.birth_edit.date()
        if not self.birth_unknown.isChecked() and picked != _NO_BIRTH_DATE:
            birth = date(picked.year(), picked.month(), picked.day())
        patient = PatientDraft(
            name=self.name_edit.text().strip(),
            date_of_birth=birth,
            mrn=self.mrn_edit.text().strip(),
            email=self.email_edit.text().strip(),
            phone=self.phone_edit.text().strip(),
            id=self._patient_id,
        )
        kind = AppointmentKind(self.kind_combo.currentData())
        clinician = self._current_clinician()
        location_index = self.location_combo.currentIndex() - 1
        location = self._locations[location_index] if location_index >= 0 else None
        return AppointmentDraft(
            patient=patient,
            clinician_id=None if clinician is None else clinician.id,
            start=_to_utc(self.start_edit.dateTime()),
            duration_minutes=self.duration_spin.value(),
            kind=kind,
            location_id=None if location is None else location.id,
            notes=self.notes_edit.toPlainText().strip(),
            participants=(
                self.participants_editor.participants() if kind is AppointmentKind.GROUP else []
            ),
            id=None if self._appointment is None else self._appointment.id,
        )

    def _current_clinician(self) -> StaffMember | None:
        index = self.clinician_combo.currentIndex()
        return self._clinicians[index] if 0 <= index < len(self._clinicians) else None

    def error_text(self, field: str) -> str:
        """The error shown at `field` (a validation field name), or "" when there is none."""
        label, _ = self._error_fields[field]
        return "" if label.isHidden() else label.text()

    # --- patient search --------------------------------------------------------------------
    @Slot(str)
    def _search_edited(self, _text: str) -> None:
        self._search_timer.start()  # restarts: one search once typing pauses

    @Slot()
    def _search(self) -> None:
        text = self.search_edit.text().strip()
        self._search_request += 1
        if not text:
            self._search_model.setStringList([])
            self._hide_completions()
            return
        request = self._search_request
        self._service.search_patients(text, lambda found: self._patients_found(request, found))

    def _patients_found(self, request: int, patients: list[Patient]) -> None:
        if not shiboken6.isValid(self) or request != self._search_request:
            return  # the dialog closed, or the user typed on: a newer answer is coming
        self._found = {_patient_text(patient): patient for patient in patients}
        self._search_model.setStringList(list(self._found))
        if self._found and self.search_edit.hasFocus():
            self.patient_completer.complete()
        elif not self._found:
            self._hide_completions()

    def _hide_completions(self) -> None:
        popup = self.patient_completer.popup()
        if popup is not None:
            popup.hide()

    @Slot(str)
    def _patient_chosen(self, text: str) -> None:
        patient = self._found.get(text)
        if patient is None:
            return
        self.search_edit.clear()
        self._fill_patient(patient)
        self.name_edit.setFocus()

    @Slot()
    def _new_patient(self) -> None:
        self._patient_id = None
        for edit in (self.name_edit, self.mrn_edit, self.email_edit, self.phone_edit):
            edit.clear()
        self.birth_unknown.setChecked(True)
        self._update_patient_state()
        self.name_edit.setFocus()

    @Slot()
    def _update_patient_state(self) -> None:
        if self._patient_id is None:
            self.patient_state.setText("New patient: added to the records when saved.")
        else:
            self.patient_state.setText("Existing patient: changes here update their record.")

    @Slot(bool)
    def _birth_unknown_toggled(self, unknown: bool) -> None:
        self.birth_edit.setEnabled(not unknown)
        if unknown:
            self.birth_edit.setDate(_NO_BIRTH_DATE)
        elif self.birth_edit.date() == _NO_BIRTH_DATE:
            self.birth_edit.setDate(_FIRST_BIRTH_DATE)

    @Slot(bool)
    def _birth_unknown_clicked(self, unknown: bool) -> None:
        if not unknown:  # the user is about to type the date: take them there, day first
            self.birth_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self.birth_edit.setSelectedSection(QDateTimeEdit.Section.DaySection)

    # --- appointment fields ----------------------------------------------------------------
    @Slot()
    def _update_end(self) -> None:
        start = _to_utc(self.start_edit.dateTime())
        end = start + timedelta(minutes=self.duration_spin.value())
        same_day = end.astimezone().date() == start.astimezone().date()
        when = time_text(end) if same_day else date_time_text(end)
        self.end_label.setText(f"ends {when}")

    @Slot()
    def _kind_changed(self) -> None:
        group = AppointmentKind(self.kind_combo.currentData()) is AppointmentKind.GROUP
        self._form.setRowVisible(self._participants_row, group)
        if self.isVisible():
            self.adjustSize()

    # --- saving ----------------------------------------------------------------------------
    @Slot()
    def _save(self) -> None:
        if self._saving:
            return
        self._clear_errors()
        draft = self.draft()
        original = None if self._appointment is None else self._appointment.start
        # The same rules the store applies, for instant feedback; the store also checks overlaps.
        errors = validate_appointment(draft, [], self._service.now(), original)
        if errors:
            self._show_errors(errors)
            return
        self._set_saving(True)
        self._service.save_appointment(draft, self._saved)

    def _saved(self, result: Appointment | None, error: KnownError | None) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_saving(False)
        if isinstance(error, ValidationFailed):
            self._show_errors(error.errors)
        elif error is not None:
            self._show_errors([], [str(error)])
        elif result is not None:
            self.saved = result
            self.accept()

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self.save_button.setEnabled(not saving)
        self.save_button.setText("Saving…" if saving else "&Save")

    def reject(self) -> None:
        if self._saving:
            return  # the write is under way: its outcome decides, not a stray Esc
        if self._typed_new_patient() and not self._discarding:
            self._ask_to_discard()
            return
        super().reject()

    def _typed_new_patient(self) -> bool:
        """A new patient's details have been typed here (and would be lost on Cancel)."""
        if self._appointment is not None or self._patient_id is not None:
            return False
        edits = (self.name_edit, self.mrn_edit, self.email_edit, self.phone_edit)
        return any(edit.text().strip() for edit in edits) or not self.birth_unknown.isChecked()

    def _ask_to_discard(self) -> None:
        if self.discard_box is not None:
            return  # already asking
        name = self.name_edit.text().strip()
        box = QMessageBox(
            QMessageBox.Icon.Question, "Discard the new patient?",
            (f"The details typed for {name} are not saved." if name
             else "The new patient's details typed here are not saved."),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText("Discard them, or go back and finish the booking?")
        keep = box.button(QMessageBox.StandardButton.Cancel)
        keep.setText("&Keep editing")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._discard_answered)
        self.discard_box = box
        box.open()

    @Slot(int)
    def _discard_answered(self, answer: int) -> None:
        self.discard_box = None
        if answer == QMessageBox.StandardButton.Discard:
            self._discarding = True
            self.reject()

    def _clear_errors(self) -> None:
        self.summary.hide()
        for label, widget in self._error_fields.values():
            label.clear()
            label.hide()
            widget.setAccessibleDescription("")

    def _show_errors(self, errors: list[FieldError], general: list[str] | None = None) -> None:
        """Show each error at its field (others in the summary) and focus the first field."""
        messages = list(general or []) + [error.message for error in errors]
        by_field: dict[str, list[str]] = {}
        for error in errors:
            by_field.setdefault(error.field, []).append(error.message)
        first: QWidget | None = None
        for key, (label, widget) in self._error_fields.items():  # in the form's order
            if key not in by_field:
                continue
            text = ERROR_PREFIX + " ".join(by_field[key])
            label.setText(text)
            label.show()
            widget.setAccessibleDescription(text)
            if first is None and widget.isEnabled():
                first = widget
        lines = "\n".join(f"• {message}" for message in dict.fromkeys(messages))
        self.summary.setText(f"{ERROR_PREFIX}the appointment was not saved.\n{lines}")
        self.summary.show()
        if first is not None:
            first.setFocus()
