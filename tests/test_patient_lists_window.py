"""Patient lists driven from the keyboard in the Patients view: put patients on a new list and
an existing one, read the list (next appointment, invited), take one off, rename it; every
change is queued for the server."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit
from pytestqt.qtbot import QtBot

from app.services.message_bridge import MessageBridge
from app.services.patient_service import PatientService
from app.services.schedule_service import ScheduleService
from app.store.local_store import LocalStore
from app.ui.patients.book_list_dialog import BookListDialog
from app.ui.patients.patients_controller import PatientsController
from app.ui.patients.patients_window import PatientsWindow
from app.ui.schedule.appointment_controller import AppointmentController
from shared.clock import FixedClock
from shared.drafts import PatientDraft, PatientListDraft
from shared.sync_protocol import Intent
from tests.conftest import DR_NG, NOW
from tests.test_patients_window import ADA, ALAN, book, search


@pytest.fixture
def window(
    qtbot: QtBot, store: LocalStore, schedule_service: ScheduleService, bridge: MessageBridge
) -> Iterator[PatientsWindow]:
    patients = PatientService(store, bridge)
    controller = PatientsController(patients, AppointmentController(schedule_service, bridge,
                                                                    user_id=DR_NG.id))
    shown = controller.open_patients()
    qtbot.addWidget(shown)
    qtbot.waitExposed(shown)
    yield shown
    patients.close()


def choose(qtbot: QtBot, window: PatientsWindow, name: str) -> None:
    window.activateWindow()  # back from a dialog
    qtbot.waitUntil(window.isActiveWindow)
    search(qtbot, window, name)
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.form.name_edit.text() == name)


def answer_list_dialog(qtbot: QtBot, text: str) -> None:
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QInputDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, QInputDialog)
    # The text field of the dialog (a line edit, or the editable list chooser's).
    [line] = [e for e in dialog.findChildren(QLineEdit) if e.isVisible()]
    qtbot.waitUntil(lambda: dialog.focusWidget() is not None)
    focused = dialog.focusWidget()  # the line edit, or the list chooser that types into it
    assert focused is not None
    line.selectAll()
    qtbot.keyClicks(focused, text)
    assert line.text() == text
    qtbot.keyClick(focused, Qt.Key.Key_Return)


def test_patients_go_on_lists_and_off_again_from_the_keyboard(
    qtbot: QtBot, store: LocalStore, window: PatientsWindow, screenshot_dir: Path | None
) -> None:
    booked = book(store, ADA, 60)
    book(store, ALAN, 120)
    choose(qtbot, window, "Ada Lovelace")
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    answer_list_dialog(qtbot, "Diabetes review Q1")  # a new list
    qtbot.waitUntil(lambda: "is on “Diabetes review Q1” (1 patients)" in
                    window.banner.label.text())

    choose(qtbot, window, "Alan Turing")
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    answer_list_dialog(qtbot, "diabetes review q1")  # the same list, however it is typed
    qtbot.waitUntil(lambda: "(2 patients)" in window.banner.label.text())
    assert [lst.name for lst in store.patient_lists().result()] == ["Diabetes review Q1"]

    # The Lists tab (Alt+L): each patient's next appointment, and whether invited.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.tabs.currentIndex() == 1)
    panel = window.lists
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    assert panel.list_combo.currentText() == "Diabetes review Q1 (2)"
    ada = panel.model.entry_at(0)
    assert ada.patient.name == "Ada Lovelace"
    assert ada.next_appointment is not None and ada.next_appointment.id == booked.id
    assert [panel.model.index(0, c).data() for c in (1, 3)] == ["MRN1001", "No"]
    assert panel.count_label.text() == "2 patients · 2 booked · 0 invited"
    assert "not yet sent" in panel.state_label.text()
    if screenshot_dir is not None:
        assert window.grab().save(str(screenshot_dir / "patient-list.png"))

    # Delete takes the selected patient off the list.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    panel.view.setFocus()
    qtbot.waitUntil(panel.view.hasFocus)
    panel.view.selectRow(0)
    qtbot.keyClick(panel.view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1)
    assert panel.model.entry_at(0).patient.name == "Alan Turing"
    assert "Ada Lovelace is off “Diabetes review Q1”" in window.banner.label.text()

    # Renamed; everything went through the outbox as one list's changes.
    panel.rename_button.click()
    answer_list_dialog(qtbot, "Diabetes review Q2")
    qtbot.waitUntil(lambda: panel.list_combo.currentText() == "Diabetes review Q2 (1)")
    [queued] = store.next_batch(10).result()[-1:]
    assert queued.intent is Intent.PATIENT_LIST_UPSERT
    assert queued.payload["name"] == "Diabetes review Q2"


def test_a_list_without_a_name_is_refused_and_nothing_is_saved(
    qtbot: QtBot, store: LocalStore, window: PatientsWindow
) -> None:
    window.tabs.setCurrentIndex(1)
    window.lists.new_button.click()
    answer_list_dialog(qtbot, "   ")
    qtbot.waitUntil(lambda: "The list was not saved: Give the list a name." in
                    window.banner.label.text())
    assert store.patient_lists().result() == []


def test_a_list_is_deleted_after_a_question_and_undo_brings_it_back(
    qtbot: QtBot, store: LocalStore, window: PatientsWindow, screenshot_dir: Path | None
) -> None:
    booked = book(store, ADA, 60)
    store.save_patient_list(PatientListDraft("Awaiting bloods", [booked.patient.id])).result()
    store.save_patient_list(PatientListDraft("Diabetes review Q1", [])).result()
    window.tabs.setCurrentIndex(1)
    panel = window.lists
    qtbot.waitUntil(lambda: panel.list_combo.count() == 2)
    assert panel.list_combo.currentText() == "Awaiting bloods (1)"

    question = panel.ask_delete()
    assert question is not None
    qtbot.waitExposed(question)
    assert "Its 1 patient and their appointments stay" in question.informativeText()
    if screenshot_dir is not None:
        assert question.grab().save(str(screenshot_dir / "patient-list-delete.png"))
    question.reject()  # Cancel (the default button): nothing happens
    assert [lst.name for lst in store.patient_lists().result()] == [
        "Awaiting bloods", "Diabetes review Q1"]

    question = panel.ask_delete()
    assert question is not None
    [delete] = [b for b in question.buttons() if b.text() == "Delete list"]
    delete.click()
    qtbot.waitUntil(lambda: "The list “Awaiting bloods” is deleted." in
                    window.banner.label.text())
    qtbot.waitUntil(lambda: panel.list_combo.count() == 1)
    assert panel.list_combo.currentText() == "Diabetes review Q1 (0)"
    assert [lst.name for lst in store.patient_lists().result()] == ["Diabetes review Q1"]
    # The patient and the booking stay.
    assert store.appointments_between(NOW, NOW + timedelta(days=1)).result()[0].id == booked.id

    # Undo on the banner brings the list back, members and all.
    window.banner.action_button.click()
    qtbot.waitUntil(lambda: panel.list_combo.currentText() == "Awaiting bloods (1)")
    [restored] = [lst for lst in store.patient_lists().result()
                  if lst.name == "Awaiting bloods"]
    assert restored.patient_ids == (booked.patient.id,)


def test_a_list_of_twelve_is_booked_offline_around_the_clinicians_bookings(
    qtbot: QtBot, store: LocalStore, window: PatientsWindow, schedule_service: ScheduleService,
    screenshot_dir: Path | None,
) -> None:
    tomorrow_nine = NOW.replace(hour=9) + timedelta(days=1)  # 09:00 UTC is 09:00 here too
    # Dr Ng is busy 09:30-09:50 tomorrow: the list's slots go around it.
    busy = book(store, ADA, int((tomorrow_nine - NOW).total_seconds() // 60) + 30)
    twelve = [book(store, PatientDraft(f"Patient {n:02d}", email=f"p{n}@example.org"),
                   60 * 24 * 5 + 30 * n).patient for n in range(12)]
    store.save_patient_list(PatientListDraft("Follow-up cohort",
                                             [p.id for p in twelve])).result()
    schedule_service.load_directory()
    qtbot.waitUntil(lambda: bool(schedule_service.staff))
    pending_before = store.pending_count().result()

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.lists.model.rowCount() == 12)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # Book the list…
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), BookListDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, BookListDialog)
    qtbot.waitUntil(lambda: len(dialog.slots) == 12 and dialog.table.rowCount() == 12)
    def cell(row: int, column: int) -> str:
        item = dialog.table.item(row, column)
        return "" if item is None else item.text()

    # The day's bookings arrive after the list: the proposal steps around 09:30-09:50.
    qtbot.waitUntil(lambda: cell(2, 2) == "After the booking 09:30–09:50")
    assert [cell(r, 1) for r in (0, 1, 2, 11)] == [
        "09:00–09:15", "09:15–09:30", "09:50–10:05", "12:05–12:20"]
    assert dialog.summary.text() == "12 slots proposed."
    if screenshot_dir is not None:
        assert dialog.grab().save(str(screenshot_dir / "book-list-dialog.png"))

    qtbot.keyClick(dialog, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # Book all
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("Booked 12 of 12"), timeout=10_000)
    day = store.appointments_between(tomorrow_nine, tomorrow_nine + timedelta(hours=9)).result()
    mine = sorted(a.start for a in day if a.id != busy.id)
    assert len(mine) == 12 and mine[2] == tomorrow_nine + timedelta(minutes=50)
    assert store.pending_count().result() == pending_before + 12  # each its own booking
    # The list now shows everyone's next appointment: tomorrow's, not next week's.
    def first_next() -> object:
        booked = window.lists.model.entry_at(0).next_appointment
        return None if booked is None else booked.start

    qtbot.waitUntil(lambda: first_next() == tomorrow_nine)
    assert window.lists.count_label.text() == "12 patients · 12 booked · 0 invited"


def open_book_dialog(qtbot: QtBot, window: PatientsWindow, rows: int) -> BookListDialog:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.lists.model.rowCount() == rows)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), BookListDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, BookListDialog)
    qtbot.waitUntil(lambda: len(dialog.slots) == rows)
    # Its mnemonics (Alt+B, Alt+G) only reach it once it is the active window.
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def test_each_booking_of_a_list_is_judged_on_its_own_and_a_list_books_as_a_group(
    qtbot: QtBot, store: LocalStore, window: PatientsWindow, schedule_service: ScheduleService
) -> None:
    people = [PatientDraft("Ann Able", email="ann@example.org"), PatientDraft("Bob No-Email"),
              PatientDraft("Cy Cole", email="cy@example.org")]
    saved = [store.save_patient(p).result() for p in people]
    store.save_patient_list(PatientListDraft("Group", [p.id for p in saved])).result()
    schedule_service.load_directory()
    qtbot.waitUntil(lambda: bool(schedule_service.staff))

    dialog = open_book_dialog(qtbot, window, 3)
    qtbot.keyClick(dialog, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # Book all
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("Booked 2 of 3"))
    assert "Bob No-Email: A video appointment needs the patient's email" in \
        dialog.summary.text()

    # As one group appointment (Bob, without an email, off the list): the first patient is
    # the appointment's, the others are invited to it.
    dialog.close()
    listed = store.patient_lists().result()[0]
    store.save_patient_list(PatientListDraft("Group", [saved[0].id, saved[2].id],
                                             listed.id)).result()
    dialog = open_book_dialog(qtbot, window, 2)
    dialog.from_edit.setTime(dialog.from_edit.time().addSecs(3 * 3600))  # clear of the above
    qtbot.keyClick(dialog, Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("Booked 1 of 1"))
    [group] = [a for a in store.appointments_between(NOW, NOW + timedelta(days=2)).result()
               if a.kind.value == "group"]
    assert group.patient.name == "Ann Able"
    assert [p.name for p in group.participants] == ["Cy Cole"]


def test_a_schedule_rows_patient_goes_on_a_list_from_its_actions(
    qtbot: QtBot, tmp_path: Path, clock: FixedClock
) -> None:
    from app.ui.schedule.actions_menu import ActionKey
    from tests.test_main_window import make_app

    desk = make_app(tmp_path, clock, qtbot)
    try:
        booked = book(desk.store, ADA, 60)
        desk.window.trigger(ActionKey.ADD_TO_LIST, booked)
        window = desk.window.findChild(PatientsWindow)
        assert isinstance(window, PatientsWindow)
        assert window.shown == booked.patient
        answer_list_dialog(qtbot, "Awaiting bloods")
        qtbot.waitUntil(lambda: "is on “Awaiting bloods”" in window.banner.label.text())
        [listed] = desk.store.patient_lists().result()
        assert listed.patient_ids == (booked.patient.id,)
    finally:
        desk.shutdown()
