"""Patient lists driven from the keyboard in the Patients view: put patients on a new list and
an existing one, read the list (next appointment, invited), take one off, rename it; every
change is queued for the server."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit
from pytestqt.qtbot import QtBot

from app.domain.sync_protocol import Intent
from app.services.message_bridge import MessageBridge
from app.services.patient_service import PatientService
from app.services.schedule_service import ScheduleService
from app.store.local_store import LocalStore
from app.ui.patients.patients_controller import PatientsController
from app.ui.patients.patients_window import PatientsWindow
from app.ui.schedule.appointment_controller import AppointmentController
from tests.conftest import DR_NG
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
