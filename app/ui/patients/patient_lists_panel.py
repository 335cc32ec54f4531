"""The Lists tab of the Patients view: the clinic's named lists, each patient's next
appointment and invite; new lists, renames, deleting a list (with Undo), and removing a patient
from a list."""

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.patient_service import PatientService
from app.ui.common.banner import Banner
from app.views.list_entry_model import ListEntryModel
from shared.drafts import PatientListDraft
from shared.enums import SyncState
from shared.errors import KnownError
from shared.records import ListEntry, PatientList

_SYNC_WORDS = {
    SyncState.PENDING: "Saved on this computer; not yet sent to the server.",
    SyncState.REJECTED: "The server refused the last change: {message}",
}


class PatientListsPanel(QWidget):
    def __init__(self, patients: PatientService, banner: Banner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patients = patients
        self._banner = banner
        self.lists: list[PatientList] = []
        #: The list to show once the lists are loaded (kept across reloads).
        self._wanted: str | None = None
        self.list_combo = QComboBox(self)
        self.list_combo.setAccessibleName("Patient list")
        self.list_combo.setMinimumContentsLength(24)
        label = QLabel("Lis&t", self)
        label.setBuddy(self.list_combo)
        self.new_button = QPushButton("&New list…", self)
        self.rename_button = QPushButton("Rena&me…", self)
        self.delete_button = QPushButton("&Delete list…", self)
        self.delete_button.setToolTip("Delete this list; its patients and their appointments "
                                      "stay")
        #: The question before a list is deleted, while it is open.
        self.delete_question: QMessageBox | None = None
        self.book_button = QPushButton("&Book the list…", self)
        self.book_button.setToolTip("Consecutive slots with one clinician for everyone on the "
                                    "list, or one group appointment")
        #: Opens the booking dialog for the shown list (set by the Patients view).
        self.book_list: Callable[[PatientList], object] | None = None
        self.remove_button = QPushButton("&Remove from list", self)
        self.remove_button.setToolTip("Take the selected patient off this list (Delete)")
        self.state_label = QLabel(self)
        self.state_label.setWordWrap(True)
        self.model = ListEntryModel(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setAccessibleName("Patients on this list")
        self.count_label = QLabel(self)
        #: The name dialog (new list, rename) while it is open.
        self.name_dialog: QInputDialog | None = None

        bar = QHBoxLayout()
        bar.addWidget(label)
        bar.addWidget(self.list_combo, 1)
        bar.addWidget(self.new_button)
        bar.addWidget(self.rename_button)
        bar.addWidget(self.delete_button)
        bar.addWidget(self.book_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.state_label)
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.remove_button)
        layout.addLayout(bottom)

        self.list_combo.currentIndexChanged.connect(self._list_chosen)
        self.new_button.clicked.connect(lambda: self.ask_name())
        self.rename_button.clicked.connect(lambda: self.ask_name(self.current()))
        self.remove_button.clicked.connect(self.remove_selected)
        self.delete_button.clicked.connect(self.ask_delete)
        self.book_button.clicked.connect(self._book)
        self.view.installEventFilter(self)
        patients.listsChanged.connect(self.reload)
        self._update_buttons()
        self.reload()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Delete (or Backspace, a Mac's delete key) on the list takes the patient off it."""
        if watched is self.view and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.remove_selected()
                return True
        return super().eventFilter(watched, event)

    # --- loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        current = self.current()
        if current is not None and self._wanted is None:
            self._wanted = str(current.id)
        self.patients.load_lists(self._loaded)

    def _loaded(self, lists: list[PatientList] | None, error: KnownError | None) -> None:
        if lists is None:
            self._banner.show_warning(str(error))
            return
        wanted = self._wanted
        self._wanted = None
        self.lists = lists
        self.list_combo.blockSignals(True)
        self.list_combo.clear()
        for listed in lists:
            self.list_combo.addItem(f"{listed.name} ({len(listed.patient_ids)})",
                                    str(listed.id))
        index = self.list_combo.findData(wanted) if wanted is not None else 0
        self.list_combo.setCurrentIndex(max(index, 0) if lists else -1)
        self.list_combo.blockSignals(False)
        self._list_chosen()

    def current(self) -> PatientList | None:
        index = self.list_combo.currentIndex()
        return self.lists[index] if 0 <= index < len(self.lists) else None

    def show_list(self, list_id: str) -> None:
        """Show this list (by id) once the lists are (re)loaded."""
        self._wanted = list_id
        self.patients.load_lists(self._loaded)

    def _list_chosen(self) -> None:
        listed = self.current()
        self._update_buttons()
        if listed is None:
            self.model.set_entries([])
            self.state_label.setText("No lists yet: make one with New list…, or add a patient "
                                     "to a list from Find patients.")
            self.count_label.clear()
            return
        words = _SYNC_WORDS.get(listed.sync_state, "")
        self.state_label.setText(words.format(message=listed.sync_message))
        self.state_label.setVisible(bool(words))
        self.patients.list_entries(listed.id, self._entries_loaded)

    def _entries_loaded(self, entries: list[ListEntry] | None, error: KnownError | None) -> None:
        if entries is None:
            self._banner.show_warning(str(error))
            return
        self.model.set_entries(entries)
        booked = sum(1 for entry in entries if entry.next_appointment is not None)
        invited = sum(1 for entry in entries if entry.invited)
        self.count_label.setText(f"{len(entries)} patients · {booked} booked · {invited} invited")
        self.view.resizeColumnsToContents()
        self._update_buttons()

    def _update_buttons(self) -> None:
        listed = self.current() is not None
        self.rename_button.setEnabled(listed)
        self.delete_button.setEnabled(listed)
        self.book_button.setEnabled(listed and self.model.rowCount() > 0)
        self.remove_button.setEnabled(listed and self.model.rowCount() > 0)

    def _book(self) -> None:
        listed = self.current()
        if listed is not None and self.book_list is not None:
            self.book_list(listed)

    # --- editing ---------------------------------------------------------------------------
    def ask_name(self, listed: PatientList | None = None) -> QInputDialog:
        """The name of a new list (or of `listed`, renamed), asked without blocking."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename list" if listed else "New patient list")
        dialog.setLabelText("List name (e.g. Diabetes review Q1):")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(listed.name if listed else "")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda name: self._named(name, listed))
        self.name_dialog = dialog
        dialog.open()
        return dialog

    def _named(self, name: str, listed: PatientList | None) -> None:
        draft = PatientListDraft(name, [], None) if listed is None else PatientListDraft(
            name, list(listed.patient_ids), listed.id)
        self.patients.save_list(draft, self._saved)

    def _saved(self, saved: PatientList | None, error: KnownError | None) -> None:
        if saved is None:
            self._banner.show_error(f"The list was not saved: {error}")
            return
        self.show_list(str(saved.id))

    def ask_delete(self) -> QMessageBox | None:
        """Ask before deleting the shown list (without blocking); Delete confirms."""
        listed = self.current()
        if listed is None:
            return None
        count = len(listed.patient_ids)
        question = QMessageBox(QMessageBox.Icon.Question, "Delete list",
                               f"Delete the list “{listed.name}”?", parent=self)
        question.setInformativeText(
            f"Its {count} patient{'s' if count != 1 else ''} and their appointments stay; only "
            "the list goes, for everyone in the clinic.")
        delete = question.addButton("Delete list", QMessageBox.ButtonRole.DestructiveRole)
        question.addButton(QMessageBox.StandardButton.Cancel)
        question.setDefaultButton(QMessageBox.StandardButton.Cancel)
        question.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        question.buttonClicked.connect(
            lambda button: self._delete(listed) if button is delete else None)
        self.delete_question = question
        question.open()
        return question

    def _delete(self, listed: PatientList) -> None:
        self.patients.delete_list(listed.id, True,
                                  lambda saved, error: self._deleted(saved, error, listed))

    def _deleted(self, saved: PatientList | None, error: KnownError | None,
                 listed: PatientList) -> None:
        if saved is None:
            self._banner.show_error(f"The list was not deleted: {error}")
            return
        self.reload()
        self._banner.show_message("info", f"The list “{listed.name}” is deleted.", "&Undo",
                                  lambda: self.patients.delete_list(
                                      listed.id, False, self._restored))

    def _restored(self, saved: PatientList | None, error: KnownError | None) -> None:
        if saved is None:
            self._banner.show_error(f"The list was not brought back: {error}")
            return
        self.show_list(str(saved.id))

    def remove_selected(self) -> None:
        listed = self.current()
        rows = self.view.selectionModel().selectedRows()
        if listed is None or not rows:
            return
        patient = self.model.entry_at(rows[0].row()).patient
        members = [i for i in listed.patient_ids if i != patient.id]
        self.patients.save_list(PatientListDraft(listed.name, members, listed.id),
                                lambda saved, error: self._removed(saved, error, patient.name))

    def _removed(self, saved: PatientList | None, error: KnownError | None, name: str) -> None:
        self._saved(saved, error)
        if saved is not None:
            self._banner.show_info(f"{name} is off “{saved.name}”.")
