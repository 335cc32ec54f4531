"""The Patients view: search the local store by name, MRN, birth date, phone or email; the
chosen patient's details (editable), appointments, invites and tasks; book for them."""

from collections.abc import Callable

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.patient_service import SEARCH_LIMIT, PatientService
from app.ui.common.banner import Banner
from app.ui.common.window_placement import place_near_owner_when_shown
from app.ui.patients.patient_form import PatientForm
from app.ui.patients.patient_lists_panel import PatientListsPanel
from app.views.date_text import date_text, typed_date
from app.views.patient_appointment_model import PatientAppointmentModel
from app.views.patient_model import PatientModel
from shared.drafts import PatientListDraft
from shared.errors import KnownError, ValidationFailed
from shared.records import Patient, PatientFile, PatientList

#: Book an appointment for this patient (the controller opens the booking dialog).
BookFor = Callable[[Patient], object]


def _table(parent: QWidget, name: str, widths: tuple[int, ...] = ()) -> QTableView:
    """A read-only table of rows; `widths` (in average characters) fixes the columns' widths
    instead of measuring every row's contents (which cost more than the search itself)."""
    view = QTableView(parent)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    if widths:
        character = view.fontMetrics().averageCharWidth()
        for column, width in enumerate(widths):
            header.resizeSection(column, width * character)
    else:
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.setAccessibleName(name)
    return view


class PatientsWindow(QWidget):
    def __init__(self, patients: PatientService, book: BookFor,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Patients — Clinic Desk")
        self.resize(1100, 680)
        place_near_owner_when_shown(self)
        self.patients = patients
        self._book = book
        #: The patient whose file is shown (None: none chosen yet).
        self.shown: Patient | None = None
        self._searching = False
        self._search_again = False

        self.banner = Banner(self)
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Name, MRN, date of birth, phone or email")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Search patients")
        search_label = QLabel("&Find", self)
        search_label.setBuddy(self.search_edit)
        self.count_label = QLabel(self)
        self.model = PatientModel(self)
        self.results = _table(self, "Patients found", (24, 13, 12, 18))
        self.results.setModel(self.model)

        self.form = PatientForm(self)
        self.save_button = QPushButton("&Save details", self)
        self.book_button = QPushButton("B&ook appointment…", self)
        self.add_to_list_button = QPushButton("&Add to list…", self)
        self.add_to_list_button.setToolTip("Put this patient on one of the clinic's lists, or "
                                           "on a new one (Ctrl+L)")
        #: The list chooser of Add to list, while it is open.
        self.list_dialog: QInputDialog | None = None
        self.book_button.setToolTip("Book an appointment for this patient (Ctrl+N)")
        for button in (self.save_button, self.book_button, self.add_to_list_button):
            button.setEnabled(False)
        self.upcoming = PatientAppointmentModel(upcoming=True, parent=self)
        self.past = PatientAppointmentModel(upcoming=False, parent=self)
        self.upcoming_view = _table(self, "Upcoming appointments")
        self.upcoming_view.setModel(self.upcoming)
        self.past_view = _table(self, "Past appointments")
        self.past_view.setModel(self.past)
        self.tasks_list = QListWidget(self)
        self.tasks_list.setAccessibleName("Tasks about this patient")

        self.lists = PatientListsPanel(patients, self.banner, self)
        self._lay_out(search_label)
        self.search_edit.textChanged.connect(self._search)
        self.search_edit.returnPressed.connect(self._to_results)
        self.results.selectionModel().selectionChanged.connect(self._selected)
        self.save_button.clicked.connect(self.save)
        self.book_button.clicked.connect(self.book)
        self.add_to_list_button.clicked.connect(self.add_to_list)
        QShortcut(QKeySequence.StandardKey.New, self, self.book)
        QShortcut(QKeySequence("Ctrl+L"), self, self.add_to_list)
        QShortcut(QKeySequence.StandardKey.Find, self, self._to_search)
        patients.patientsChanged.connect(self._reload)
        self._search()

    def _lay_out(self, search_label: QLabel) -> None:
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(search_label)
        bar.addWidget(self.search_edit, 1)
        left_layout.addLayout(bar)
        left_layout.addWidget(self.results, 1)
        left_layout.addWidget(self.count_label)

        details = QGroupBox("Details", self)
        details_layout = QVBoxLayout(details)
        details_layout.addWidget(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.add_to_list_button)
        buttons.addWidget(self.book_button)
        details_layout.addLayout(buttons)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(details)
        for title, widget in (("Up&coming appointments", self.upcoming_view),
                              ("Pas&t appointments", self.past_view),
                              ("Tas&ks", self.tasks_list)):
            label = QLabel(title, self)
            label.setBuddy(widget)
            right_layout.addWidget(label)
            right_layout.addWidget(widget, 1)

        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(splitter, "Fin&d patients")
        self.tabs.addTab(self.lists, "&Lists")
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setTabOrder(self.search_edit, self.results)
        self.setTabOrder(self.results, self.form.name_edit)

    # --- search ----------------------------------------------------------------------------
    def _search(self) -> None:
        """One search in flight at a time; typing meanwhile asks again once it is answered, so
        fast typing never queues a search per key on the store."""
        if self._searching:
            self._search_again = True
            return
        self._searching = True
        text = self.search_edit.text()
        self.patients.search(text, typed_date(text), self._found)

    def _found(self, patients: list[Patient]) -> None:
        self._searching = False
        if self._search_again:
            self._search_again = False
            self._search()
            return
        self.model.set_patients(patients)
        if not patients:
            self.count_label.setText("No patient matches." if self.search_edit.text().strip()
                                     else "No patients on this desktop yet.")
        elif len(patients) >= SEARCH_LIMIT:
            self.count_label.setText(f"The first {SEARCH_LIMIT} matches: type more to narrow.")
        else:
            self.count_label.setText(f"{len(patients)} found")
        row = None if self.shown is None else self.model.row_of(self.shown)
        if row is not None:
            self.results.selectRow(row)

    def _to_results(self) -> None:
        if self.model.rowCount() > 0:
            self.results.setFocus(Qt.FocusReason.ShortcutFocusReason)
            if not self.results.selectionModel().hasSelection():
                self.results.selectRow(0)

    def _to_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    # --- the chosen patient ----------------------------------------------------------------
    def _selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        patient = self.model.patient_at(indexes[0].row())
        if self.shown is not None and patient.id == self.shown.id:
            return
        self.show_patient(patient)

    def show_patient(self, patient: Patient) -> None:
        self.shown = patient
        self.form.set_patient(patient)
        for button in (self.save_button, self.book_button, self.add_to_list_button):
            button.setEnabled(True)
        self.patients.open_file(patient.id, self._file_loaded)

    def _reload(self) -> None:
        if self.shown is not None:
            self.patients.open_file(self.shown.id, self._file_loaded)

    def _file_loaded(self, found: PatientFile | None, error: KnownError | None) -> None:
        if found is None:
            self.banner.show_warning(str(error or "This patient is no longer on this desktop."))
            return
        if self.shown is None or found.patient.id != self.shown.id:
            return  # another patient was chosen meanwhile
        now = self.patients.store.clock.now()
        self.upcoming.set_appointments(found.appointments, now)
        self.past.set_appointments(found.appointments, now)
        self.tasks_list.clear()
        for task in found.tasks:
            due = f" (due {date_text(task.due_date)})" if task.due_date else ""
            state = "Done" if task.done else "Open"
            first = task.text.splitlines()[0] if task.text else ""
            self.tasks_list.addItem(f"{state}: {first} — {task.assignee.name}{due}")
        if not found.tasks:
            self.tasks_list.addItem("No tasks about this patient's appointments.")

    # --- actions ---------------------------------------------------------------------------
    def save(self) -> None:
        if self.shown is None:
            return
        self.save_button.setEnabled(False)
        self.patients.save(self.form.draft(), self._saved)

    def _saved(self, saved: Patient | None, error: KnownError | None) -> None:
        self.save_button.setEnabled(True)
        if saved is None:
            if isinstance(error, ValidationFailed):
                loose = self.form.show_errors(error.errors)
                self.banner.show_error("The details were not saved: " + (
                    " ".join(loose) if loose else "correct what is marked below."))
            else:
                self.banner.show_error(f"The details were not saved: {error}")
            return
        self.form.clear_errors()
        self.shown = saved
        self.model.replace(saved)
        self.banner.show_info(
            f"{saved.name}'s details are saved; they go to the server with your other changes.")

    def book(self) -> None:
        if self.shown is not None:
            self._book(self.shown)

    def add_to_list(self) -> QInputDialog | None:
        """Ask which list (one of the clinic's, or a new name) gets the shown patient."""
        patient = self.shown
        if patient is None:
            return None
        dialog = QInputDialog(self)
        dialog.setWindowTitle(f"Add {patient.name} to a list")
        dialog.setLabelText("List (choose one, or type a new list's name):")
        dialog.setComboBoxEditable(True)
        dialog.setComboBoxItems([listed.name for listed in self.lists.lists])
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda name: self._list_chosen(name.strip(), patient))
        self.list_dialog = dialog
        dialog.open()
        return dialog

    def _list_chosen(self, name: str, patient: Patient) -> None:
        listed = next((lst for lst in self.lists.lists
                       if lst.name.casefold() == name.casefold()), None)
        if listed is not None and patient.id in listed.patient_ids:
            self.banner.show_info(f"{patient.name} is on “{listed.name}” already.")
            return
        if listed is None:
            draft = PatientListDraft(name, [patient.id])
        else:
            draft = PatientListDraft(listed.name, [*listed.patient_ids, patient.id], listed.id)
        self.patients.save_list(draft, lambda saved, error: self._added(saved, error, patient))

    def _added(self, saved: PatientList | None, error: KnownError | None,
               patient: Patient) -> None:
        if saved is None:
            self.banner.show_error(f"{patient.name} was not added to the list: {error}")
            return
        self.banner.show_info(f"{patient.name} is on “{saved.name}” "
                              f"({len(saved.patient_ids)} patients).")
        self.lists.show_list(str(saved.id))
