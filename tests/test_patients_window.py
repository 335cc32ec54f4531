"""The Patients view driven from the keyboard: find a patient by any of their details, read
their file, correct it (the shared rules and the MRN rule), and book for them."""

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.services.message_bridge import MessageBridge
from app.services.patient_service import PatientService
from app.services.schedule_service import ScheduleService
from app.store.local_store import LocalStore
from app.ui.patients.patients_controller import PatientsController
from app.ui.patients.patients_window import PatientsWindow
from app.ui.schedule.appointment_controller import AppointmentController
from app.ui.schedule.appointment_dialog import AppointmentDialog
from shared.clock import FixedClock
from shared.drafts import AppointmentDraft, PatientDraft, TaskDraft
from shared.enums import AppointmentKind, AppointmentStatus
from shared.records import Appointment, StaffMember
from shared.sync_protocol import PatientChange, PullResponse
from tests.conftest import DR_NG, DR_OKAFOR, NOW

ADA = PatientDraft("Ada Lovelace", date(1950, 3, 14), "MRN1001", "ada@example.org",
                   "+44 20 7946 0001")
ALAN = PatientDraft("Alan Turing", date(1912, 6, 23), "MRN1002", "alan@example.org",
                    "+44 20 7946 0002")


def book(store: LocalStore, patient: PatientDraft, minutes: int,
         clinician: StaffMember = DR_NG) -> Appointment:
    draft = AppointmentDraft(patient=patient, clinician_id=clinician.id,
                             start=NOW + timedelta(minutes=minutes), duration_minutes=20,
                             kind=AppointmentKind.VIDEO)
    return store.save_appointment(draft).result()


@pytest.fixture
def patients(store: LocalStore, bridge: MessageBridge) -> Iterator[PatientService]:
    service = PatientService(store, bridge)
    yield service
    service.close()


@pytest.fixture
def controller(
    qtbot: QtBot, patients: PatientService, schedule_service: ScheduleService,
    bridge: MessageBridge,
) -> PatientsController:
    schedule_service.load_directory()
    qtbot.waitUntil(lambda: bool(schedule_service.staff))
    appointments = AppointmentController(schedule_service, bridge, user_id=DR_NG.id)
    return PatientsController(patients, appointments)


def open_window(qtbot: QtBot, controller: PatientsController) -> PatientsWindow:
    window = controller.open_patients()
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    return window


def search(qtbot: QtBot, window: PatientsWindow, text: str) -> list[str]:
    window.search_edit.selectAll()
    qtbot.keyClicks(window.search_edit, text)
    qtbot.waitUntil(lambda: not window._searching)
    return [window.model.patient_at(row).name for row in range(window.model.rowCount())]


def test_a_patient_is_found_by_name_mrn_birth_date_phone_or_email(
    qtbot: QtBot, store: LocalStore, controller: PatientsController
) -> None:
    ada = book(store, ADA, 60).patient
    book(store, ALAN, 120)
    window = open_window(qtbot, controller)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)  # everyone, before typing
    assert search(qtbot, window, "love") == ["Ada Lovelace"]
    assert search(qtbot, window, "MRN1002") == ["Alan Turing"]
    assert search(qtbot, window, "MRN100") == ["Ada Lovelace", "Alan Turing"]
    assert search(qtbot, window, "14/03/1950") == ["Ada Lovelace"]  # as a UK clinic types it
    assert search(qtbot, window, "1912-06-23") == ["Alan Turing"]
    assert search(qtbot, window, "020 7946 0002") == ["Alan Turing"]
    assert search(qtbot, window, "79460001") == ["Ada Lovelace"]
    assert search(qtbot, window, "alan@example") == ["Alan Turing"]
    assert search(qtbot, window, "nobody at all") == []
    assert window.count_label.text() == "No patient matches."
    # Typed % is a letter, not a wildcard.
    assert search(qtbot, window, "%") == []
    assert store.search_patients("x", born=ada.date_of_birth).result()[0].id == ada.id


def test_the_file_shows_appointments_invites_and_tasks_and_books_for_the_patient(
    qtbot: QtBot, store: LocalStore, controller: PatientsController,
    screenshot_dir: Path | None,
) -> None:
    upcoming = book(store, ADA, 60)
    patient = PatientDraft(ADA.name, ADA.date_of_birth, ADA.mrn, ADA.email, ADA.phone,
                           id=upcoming.patient.id)
    later = book(store, patient, 24 * 60, DR_OKAFOR)
    store.set_status(later.id, AppointmentStatus.CANCELLED, "Patient asked").result()
    store.save_task(TaskDraft(DR_NG.id, "Send the blood form", appointment_id=upcoming.id),
                    DR_NG.id).result()
    window = open_window(qtbot, controller)
    search(qtbot, window, "ada")
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)  # to the list, first row chosen
    assert window.results.hasFocus()
    qtbot.waitUntil(lambda: window.upcoming.rowCount() == 2)
    assert window.form.name_edit.text() == "Ada Lovelace"
    assert window.form.mrn_edit.text() == "MRN1001"
    first = [window.upcoming.index(0, c).data() for c in range(5)]
    assert first[1:] == ["Scheduled", "Video", "Dr Ng", "Not invited"]
    assert window.upcoming.index(1, 1).data() == "Cancelled"
    assert window.upcoming.index(1, 3).data() == "Dr Okafor"
    assert window.past.rowCount() == 0
    assert window.tasks_list.item(0).text() == "Open: Send the blood form — Dr Ng"
    if screenshot_dir is not None:
        assert window.grab().save(str(screenshot_dir / "patients-window.png"))

    # Ctrl+N books for the shown patient: the dialog opens with them chosen, on the start.
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), AppointmentDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, AppointmentDialog)
    assert dialog.windowTitle() == "New appointment — Ada Lovelace"
    assert dialog.name_edit.text() == "Ada Lovelace"
    assert dialog.draft().patient.id == upcoming.patient.id
    qtbot.waitUntil(dialog.start_edit.hasFocus)
    if screenshot_dir is not None:
        assert dialog.grab().save(str(screenshot_dir / "patients-book-dialog.png"))
    dialog.start_edit.setDateTime(dialog.start_edit.dateTime().addSecs(3 * 3600))
    qtbot.keyClick(dialog.save_button, Qt.Key.Key_Space)
    # The booking shows in the file at once (the view hears the store's writes).
    qtbot.waitUntil(lambda: window.upcoming.rowCount() == 3)


def test_corrections_are_saved_and_checked_with_the_shared_rules_and_the_mrn(
    qtbot: QtBot, store: LocalStore, controller: PatientsController,
    screenshot_dir: Path | None,
) -> None:
    book(store, ADA, 60)
    book(store, ALAN, 120)
    window = open_window(qtbot, controller)
    search(qtbot, window, "alan")
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.form.name_edit.text() == "Alan Turing")

    window.form.email_edit.clear()
    qtbot.keyClicks(window.form.email_edit, "alan at bletchley")
    window.form.mrn_edit.clear()
    qtbot.keyClicks(window.form.mrn_edit, "MRN1001")
    qtbot.keyClick(window.save_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.form.error_text("patient.mrn") != "")
    assert "MRN MRN1001 is already registered to Ada Lovelace" in \
        window.form.error_text("patient.mrn")
    assert "not an email address" in window.form.error_text("patient.email")
    assert "were not saved" in window.banner.label.text()
    if screenshot_dir is not None:
        assert window.grab().save(str(screenshot_dir / "patients-errors.png"))
    # Nothing was written, and what was typed is kept to correct.
    [alan] = store.search_patients("Alan").result()
    assert alan.mrn == "MRN1002" and alan.email == "alan@example.org"
    assert window.form.email_edit.text() == "alan at bletchley"

    window.form.email_edit.clear()
    qtbot.keyClicks(window.form.email_edit, "alan@bletchley.example")
    window.form.mrn_edit.clear()
    qtbot.keyClicks(window.form.mrn_edit, "MRN2002")
    qtbot.keyClick(window.save_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "details are saved" in window.banner.label.text())
    [alan] = store.search_patients("Alan").result()
    assert (alan.mrn, alan.email) == ("MRN2002", "alan@bletchley.example")
    assert window.form.error_text("patient.mrn") == ""
    assert window.model.index(0, 2).data() == "MRN2002"  # the row follows
    assert store.pending_count().result() >= 1  # on its way to the server


def test_a_booking_that_reuses_another_patients_mrn_is_refused(store: LocalStore) -> None:
    book(store, ADA, 60)
    twin = PatientDraft("Ada Byron", mrn="MRN1001", email="byron@example.org")
    draft = AppointmentDraft(patient=twin, clinician_id=DR_NG.id,
                             start=NOW + timedelta(hours=3), duration_minutes=20,
                             kind=AppointmentKind.VIDEO)
    with pytest.raises(Exception, match="already registered to Ada Lovelace"):
        store.save_appointment(draft).result()
    assert [p.name for p in store.search_patients("Ada").result()] == ["Ada Lovelace"]


def test_the_search_follows_patients_the_sync_brings_and_changes(store: LocalStore) -> None:
    book(store, ADA, 60)
    assert store.search_patients("grace").result() == []  # the index is built here
    grace = uuid.UUID(int=77)

    def page(seq: int, name: str) -> PullResponse:
        data = {"id": str(grace), "name": name, "mrn": "RGH7", "date_of_birth": "1906-12-09",
                "email": "", "phone": "", "version": seq, "updated_at": NOW.isoformat()}
        change = PatientChange.model_validate(
            {"seq": seq, "type": "patient", "id": grace, "deleted": False, "data": data})
        return PullResponse(protocol=1, cursor=seq, has_more=False, server_time=NOW,
                            scope="s", changes=[change], head=seq)

    store.apply_page(page(1, "Grace Hopper"), 0).result()
    assert [p.mrn for p in store.search_patients("grace").result()] == ["RGH7"]
    store.apply_page(page(2, "Grace Brewster Hopper"), 0).result()
    assert [p.name for p in store.search_patients("brewster").result()] == [
        "Grace Brewster Hopper"]


def test_the_patients_models_pass_the_model_tester(
    qtmodeltester: object, store: LocalStore
) -> None:
    from app.views.patient_appointment_model import PatientAppointmentModel
    from app.views.patient_model import PatientModel

    first = book(store, ADA, 60)
    second = book(store, ALAN, 120)
    patients = PatientModel()
    patients.set_patients([first.patient, second.patient])
    qtmodeltester.check(patients)  # type: ignore[attr-defined]
    for upcoming in (True, False):
        appointments = PatientAppointmentModel(upcoming)
        # An hour and a half on, the first is over and the second to come.
        appointments.set_appointments((first, second), NOW + timedelta(minutes=90))
        assert appointments.rowCount() == 1
        qtmodeltester.check(appointments)  # type: ignore[attr-defined]


def test_ctrl_p_in_the_schedule_opens_the_patients_view(
    qtbot: QtBot, tmp_path: Path, clock: FixedClock, screenshot_dir: Path | None
) -> None:
    from tests.test_main_window import make_app

    desk = make_app(tmp_path, clock, qtbot)
    try:
        book(desk.store, ADA, 60)
        assert "Patients" in [a.text() for a in desk.window.toolbar.actions()]
        qtbot.keyClick(desk.window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: desk.window.findChild(PatientsWindow) is not None)
        window = desk.window.findChild(PatientsWindow)
        assert isinstance(window, PatientsWindow)
        qtbot.waitExposed(window)
        qtbot.waitUntil(window.search_edit.hasFocus)
        qtbot.keyClicks(window.search_edit, "lovelace")
        qtbot.waitUntil(lambda: window.model.rowCount() == 1)
        if screenshot_dir is not None:
            assert desk.window.grab().save(str(screenshot_dir / "schedule-patients-action.png"))
    finally:
        desk.shutdown()
