"""The appointment and cancel dialogs, driven by keystrokes against a real store."""

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QDateTimeEdit,
    QDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.services.schedule_service import ScheduleService
from app.store.local_store import LocalStore
from app.ui.schedule.appointment_dialog import AppointmentDialog
from app.ui.schedule.cancel_dialog import CancelDialog
from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind, AppointmentStatus
from shared.errors import ValidationFailed
from shared.records import Appointment, Participant
from tests.conftest import DR_NG, NOW, ST_MARYS

#: The default start of a new appointment at NOW (08:00 UTC): the next quarter hour.
NEXT_QUARTER = NOW + timedelta(minutes=15)
OpenDialog = Callable[..., AppointmentDialog]


def clock_text(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


# QTest directly: qtbot's key and mouse helpers are the same functions, without type hints.
def type_here(text: str) -> None:
    QTest.keyClicks(focused(), text)


def press(key: Qt.Key, modifier: Qt.KeyboardModifier | None = None) -> None:
    if modifier is None:
        QTest.keyClick(focused(), key)
    else:
        QTest.keyClick(focused(), key, modifier)


def click(button: QWidget) -> None:
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def shoot(widget: QWidget, name: str, folder: Path | None) -> None:
    if folder is None:
        return
    layout = widget.layout()
    if layout is not None:
        layout.activate()
    assert widget.grab().save(str(folder / name))


def stored(store: LocalStore) -> list[Appointment]:
    return store.appointments_between(NOW - timedelta(days=1), NOW + timedelta(days=2)).result()


def book(
    store: LocalStore,
    start: datetime = NEXT_QUARTER,
    name: str = "Jane Doe",
    email: str = "jane@example.org",
    mrn: str = "H123456",
) -> Appointment:
    draft = AppointmentDraft(
        patient=PatientDraft(name=name, email=email, mrn=mrn),
        clinician_id=DR_NG.id,
        start=start,
        duration_minutes=20,
        kind=AppointmentKind.VIDEO,
        location_id=ST_MARYS.id,
        notes="Diabetes review.",
    )
    return store.save_appointment(draft).result()


@pytest.fixture
def service(qtbot: QtBot, schedule_service: ScheduleService) -> ScheduleService:
    with qtbot.waitSignal(schedule_service.directoryLoaded, timeout=5000):
        schedule_service.load_directory()
    return schedule_service


def show(qtbot: QtBot, dialog: QDialog) -> None:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)


@pytest.fixture
def dialogs() -> Iterator[list[QDialog]]:
    """Holds the test's dialogs until Qt has deleted them.

    A shown dialog freed by Python's reference count as the test returned, soon after a store
    callback, crashed Qt now and then (a timer or animation firing on a freed object; about one
    run in two of 60 patient picks). Deleted by Qt (deleteLater), as the app's parented dialogs
    are, it never did (0 of 2,400).
    """
    held: list[QDialog] = []
    yield held
    for dialog in held:
        if shiboken6.isValid(dialog):
            dialog.close()
            dialog.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    held.clear()


@pytest.fixture
def open_dialog(
    qtbot: QtBot, service: ScheduleService, dialogs: list[QDialog]
) -> OpenDialog:
    def make(**arguments: object) -> AppointmentDialog:
        dialog = AppointmentDialog(service, **arguments)  # type: ignore[arg-type]
        dialogs.append(dialog)
        show(qtbot, dialog)
        return dialog

    return make


@pytest.fixture
def open_cancel(qtbot: QtBot, dialogs: list[QDialog]) -> Callable[[Appointment], CancelDialog]:
    def make(appointment: Appointment) -> CancelDialog:
        dialog = CancelDialog(appointment)
        dialogs.append(dialog)
        show(qtbot, dialog)
        return dialog

    return make


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The workstation's time zone, for Python and Qt alike."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def fill_patient(dialog: AppointmentDialog, name: str, email: str, born: str = "") -> None:
    """From the search field, Tab down through the patient's fields, typing as a clerk would."""
    assert focused() is dialog.search_edit
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.new_patient_button
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.name_edit
    type_here(name)
    press(Qt.Key.Key_Tab)  # the date of birth is disabled while "Unknown" is ticked
    assert focused() is dialog.birth_unknown
    if born:
        press(Qt.Key.Key_Space)  # untick "Unknown": the date takes the focus, day first
        assert focused() is dialog.birth_edit
        type_here(born)
        press(Qt.Key.Key_Tab)
        assert focused() is dialog.birth_unknown
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.mrn_edit
    type_here("H123456")
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.email_edit
    type_here(email)
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.phone_edit
    type_here("020 7946 0000")


def choose_clinician(dialog: AppointmentDialog) -> None:
    """From the phone field, Tab to the clinician and pick Dr Ng, the first, with the arrow."""
    for expected in (dialog.start_edit, dialog.duration_spin, dialog.kind_combo):
        press(Qt.Key.Key_Tab)
        assert focused() is expected
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.clinician_combo
    assert dialog.clinician_combo.currentIndex() == -1  # nobody is booked by default
    press(Qt.Key.Key_Down)
    assert dialog.clinician_combo.currentText() == "Dr Ng"


def add_participant(qtbot: QtBot, dialog: AppointmentDialog, name: str, email: str) -> None:
    click(dialog.add_participant_button)
    row = dialog.participant_table.rowCount() - 1
    editor = focused()
    assert isinstance(editor, QLineEdit) and dialog.participant_table.isAncestorOf(editor)
    type_here(name)
    press(Qt.Key.Key_Tab)  # on to the email cell's editor
    type_here(email)
    press(Qt.Key.Key_Return)  # finishes the cell; it does not save the dialog
    cell = dialog.participant_table.item(row, 1)
    assert cell is not None
    qtbot.waitUntil(lambda: cell.text() == email and focused() is dialog.participant_table)
    assert dialog.isVisible() and dialog.summary.isHidden()


def test_create_video_appointment(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore, screenshot_dir: Path | None
) -> None:
    dialog = open_dialog()
    assert dialog.windowTitle() == "New appointment"
    assert not dialog.participant_table.isVisible()  # video, not group
    shoot(dialog, "dialog-new-appointment.png", screenshot_dir)
    fill_patient(dialog, "Jane Doe", "jane@example.org", born="3 Feb 1961")
    choose_clinician(dialog)

    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        press(Qt.Key.Key_Return)

    [saved] = stored(store)
    assert dialog.saved == saved
    assert saved.patient.name == "Jane Doe"
    assert saved.patient.email == "jane@example.org"
    assert saved.patient.mrn == "H123456"
    assert saved.patient.phone == "020 7946 0000"
    assert saved.patient.date_of_birth == date(1961, 2, 3)
    assert saved.clinician == DR_NG
    assert saved.start == NEXT_QUARTER
    assert saved.duration_minutes == 20
    assert saved.kind is AppointmentKind.VIDEO
    assert saved.location is None


def test_empty_name_is_refused(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore, screenshot_dir: Path | None
) -> None:
    dialog = open_dialog()
    fill_patient(dialog, "", "jane@example.org")
    choose_clinician(dialog)

    press(Qt.Key.Key_Return)

    message = "Enter the patient's name."
    assert dialog.error_text("patient.name") == f"Error: {message}"
    assert dialog.name_edit.accessibleDescription() == f"Error: {message}"
    assert message in dialog.summary.text() and dialog.summary.isVisible()
    assert focused() is dialog.name_edit
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert dialog.email_edit.text() == "jane@example.org"  # the input is kept
    assert stored(store) == []
    shoot(dialog, "dialog-new-appointment-errors.png", screenshot_dir)

    type_here("Jane Doe")  # fixing it clears the error on the next save
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        press(Qt.Key.Key_Return)
    assert dialog.error_text("patient.name") == ""
    assert len(stored(store)) == 1


def test_video_without_email_is_refused(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore
) -> None:
    dialog = open_dialog()
    fill_patient(dialog, "Jane Doe", "")
    choose_clinician(dialog)

    press(Qt.Key.Key_Return)

    assert dialog.error_text("patient.email") == (
        "Error: A video appointment needs the patient's email for the invite."
    )
    assert focused() is dialog.email_edit
    assert stored(store) == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("ann@example.org, other@example.net", "Enter one email address only."),
        ("not an email", "This is not an email address (it looks like name@example.org)."),
    ],
)
def test_an_email_field_holds_one_address(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore, email: str, message: str
) -> None:
    dialog = open_dialog()
    fill_patient(dialog, "Jane Doe", email)
    choose_clinician(dialog)

    press(Qt.Key.Key_Return)

    assert dialog.error_text("patient.email") == f"Error: {message}"
    assert dialog.isVisible() and dialog.email_edit.text() == email  # kept for correcting
    assert stored(store) == []


def test_pasted_control_characters_are_refused_in_the_dialog(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore
) -> None:
    dialog = open_dialog()
    fill_patient(dialog, "Jane Doe", "jane@example.org")
    choose_clinician(dialog)
    dialog.name_edit.setText("Jane\x00Doe")  # a paste from another program
    dialog.mrn_edit.setText("H1\x1b[2J")
    dialog.notes_edit.setPlainText("Two lines\nare fine\x07")

    press(Qt.Key.Key_Return)

    assert "control character" in dialog.error_text("patient.name")
    assert "control character" in dialog.error_text("patient.mrn")
    assert "control character" in dialog.error_text("notes")
    assert dialog.isVisible() and stored(store) == []


@pytest.mark.parametrize(
    ("patient", "field"),
    [
        (PatientDraft(name="Ann\x00e", email="ann@example.org"), "patient.name"),
        (PatientDraft(name="Ann", email="x@example.org\r\nBcc: y@example.net"), "patient.email"),
        (PatientDraft(name="Ann", phone="0207\n946"), "patient.phone"),
        (PatientDraft(name="Ann", email="ann@example.org", date_of_birth=date(1, 1, 1)),
         "patient.date_of_birth"),
    ],
)
def test_the_store_never_queues_what_the_server_cannot_store(
    store: LocalStore, patient: PatientDraft, field: str
) -> None:
    draft = AppointmentDraft(patient=patient, clinician_id=DR_NG.id, start=NEXT_QUARTER,
                             duration_minutes=20, kind=AppointmentKind.PHONE)
    with pytest.raises(ValidationFailed) as refused:
        store.save_appointment(draft).result()
    assert [error.field for error in refused.value.errors] == [field]
    assert stored(store) == [] and store.sync_counts().result() == (0, 0)


def test_the_store_refuses_a_start_no_database_holds(store: LocalStore) -> None:
    far = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    draft = AppointmentDraft(patient=PatientDraft(name="Ann", phone="1"), clinician_id=DR_NG.id,
                             start=far, duration_minutes=20, kind=AppointmentKind.PHONE)
    with pytest.raises(ValidationFailed) as refused:
        store.save_appointment(draft).result()
    assert refused.value.errors[0].message == "Enter a date between the years 1900 and 9998."
    assert store.sync_counts().result() == (0, 0)


def test_start_in_the_past_is_refused(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore
) -> None:
    dialog = open_dialog()
    fill_patient(dialog, "Jane Doe", "jane@example.org")
    choose_clinician(dialog)
    press(Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    press(Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    press(Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused() is dialog.start_edit
    dialog.start_edit.setCurrentSection(QDateTimeEdit.Section.HourSection)
    press(Qt.Key.Key_Down)  # an hour earlier: 07:15, before 08:00

    press(Qt.Key.Key_Return)

    past = NEXT_QUARTER - timedelta(hours=1)
    assert dialog.error_text("start") == f"Error: The start ({clock_text(past)}) is in the past."
    assert stored(store) == []


def test_overlap_is_refused_by_the_store(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore, screenshot_dir: Path | None
) -> None:
    existing = book(store, name="John Smith", email="john@example.org", mrn="H654321")
    dialog = open_dialog()
    fill_patient(dialog, "Jane Doe", "jane@example.org")
    choose_clinician(dialog)

    press(Qt.Key.Key_Return)
    assert not dialog.save_button.isEnabled()  # until the store answers
    qtbot.waitUntil(lambda: dialog.error_text("start") != "", timeout=5000)

    window = f"{clock_text(existing.start)}–{clock_text(existing.end)}"
    message = f"Dr Ng already has an appointment {window}."
    assert dialog.error_text("start") == f"Error: {message}"
    assert message in dialog.summary.text()
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert dialog.name_edit.text() == "Jane Doe"
    assert dialog.saved is None
    assert stored(store) == [existing]
    shoot(dialog, "dialog-overlap-error.png", screenshot_dir)


def test_refusal_without_a_field_shows_in_the_summary(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore
) -> None:
    booked = book(store)
    dialog = open_dialog(appointment=booked)
    store.set_status(booked.id, AppointmentStatus.CANCELLED, "Booked in error").result()

    press(Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.summary.isVisible, timeout=5000)

    assert "A cancelled appointment cannot be edited." in dialog.summary.text()
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert stored(store)[0].version == booked.version + 1  # only the cancellation


def test_group_appointment_with_participants(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore, screenshot_dir: Path | None
) -> None:
    dialog = open_dialog()
    fill_patient(dialog, "Jane Doe", "jane@example.org")
    choose_clinician(dialog)
    press(Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused() is dialog.kind_combo
    type_here("Group")
    assert dialog.participant_table.isVisible()
    invitees = [
        Participant("Amir Khan", "amir@example.org"),
        Participant("Bea Lopez", "bea@example.org"),
        Participant("Chen Wei", "chen@example.org"),
    ]
    for invitee in invitees:
        add_participant(qtbot, dialog, invitee.name, invitee.email)
    assert dialog.participant_count.text() == "3 of 50"
    shoot(dialog, "dialog-group-appointment.png", screenshot_dir)

    dialog.name_edit.setFocus()
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        press(Qt.Key.Key_Return)

    [saved] = stored(store)
    assert saved.kind is AppointmentKind.GROUP
    assert saved.participants == tuple(invitees)


def test_group_of_51_is_refused(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore, screenshot_dir: Path | None
) -> None:
    dialog = open_dialog()
    fill_patient(dialog, "Jane Doe", "jane@example.org")
    choose_clinician(dialog)
    dialog.kind_combo.setFocus()
    type_here("Group")
    for number in range(1, 52):
        add_participant(qtbot, dialog, f"Participant {number}", f"p{number}@example.org")
    assert dialog.participant_count.text() == "51 of 50"
    assert dialog.add_participant_button.isEnabled()  # the rule is told, not silently enforced

    dialog.name_edit.setFocus()
    press(Qt.Key.Key_Return)

    assert dialog.error_text("participants") == (
        "Error: A group appointment holds at most 50 participants (51 entered)."
    )
    assert stored(store) == []
    shoot(dialog, "dialog-group-too-many.png", screenshot_dir)

    dialog.participant_table.selectRow(50)
    click(dialog.remove_participant_button)
    assert dialog.participant_count.text() == "50 of 50"
    dialog.name_edit.setFocus()
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        press(Qt.Key.Key_Return)
    assert len(stored(store)[0].participants) == 50


def test_edit_changes_notes_and_version(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore, screenshot_dir: Path | None
) -> None:
    original = book(store)
    dialog = open_dialog(appointment=original)
    assert dialog.windowTitle() == "Edit appointment — Jane Doe"
    assert dialog.name_edit.text() == "Jane Doe"
    assert dialog.mrn_edit.text() == "H123456"
    assert dialog.clinician_combo.currentText() == "Dr Ng"
    assert dialog.location_combo.currentText() == ST_MARYS.label
    assert dialog.draft().start == original.start
    assert dialog.draft().id == original.id
    shoot(dialog, "dialog-edit-appointment.png", screenshot_dir)

    dialog.notes_edit.setFocus()
    dialog.notes_edit.moveCursor(dialog.notes_edit.textCursor().MoveOperation.End)
    type_here(" Bring the glucose diary.")
    press(Qt.Key.Key_Tab)  # Tab leaves the notes; the hidden participants are skipped
    assert focused() is dialog.save_button
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        press(Qt.Key.Key_Return)

    [saved] = stored(store)
    assert saved.id == original.id
    assert saved.notes == "Diabetes review. Bring the glucose diary."
    assert saved.version == original.version + 1
    assert saved.patient.id == original.patient.id


def test_pick_existing_patient(qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore) -> None:
    earlier = book(store, start=NOW + timedelta(days=1))
    dialog = open_dialog()
    type_here("jane")
    popup = dialog.patient_completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=5000)
    assert popup.model().rowCount() == 1
    QTest.keyClick(popup, Qt.Key.Key_Down)
    QTest.keyClick(popup, Qt.Key.Key_Return)

    assert dialog.name_edit.text() == "Jane Doe"
    assert dialog.email_edit.text() == "jane@example.org"
    assert dialog.mrn_edit.text() == "H123456"
    assert dialog.draft().patient.id == earlier.patient.id
    assert "Existing patient" in dialog.patient_state.text()
    assert dialog.isVisible()  # Enter picked the patient; it did not save

    click(dialog.new_patient_button)
    assert dialog.name_edit.text() == "" and dialog.email_edit.text() == ""
    assert dialog.draft().patient.id is None
    assert focused() is dialog.name_edit


def test_times_are_the_workstations(
    zone: str, qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore
) -> None:
    new = open_dialog()
    local = NEXT_QUARTER.astimezone()
    assert new.start_edit.dateTime().toString("yyyy-MM-dd HH:mm") == f"{local:%Y-%m-%d %H:%M}"
    assert new.draft().start == NEXT_QUARTER
    assert new.draft().start.tzinfo is not None

    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    asked = open_dialog(start=start)
    assert asked.draft().start == start

    booked = book(store, start=start)
    edit = open_dialog(appointment=booked)
    shown = start.astimezone()
    assert edit.start_edit.dateTime().toString("HH:mm") == f"{shown:%H:%M}"
    assert edit.draft().start == start


def test_cancel_dialog_returns_the_reason(
    qtbot: QtBot,
    store: LocalStore,
    open_cancel: Callable[[Appointment], CancelDialog],
    screenshot_dir: Path | None,
) -> None:
    appointment = book(store)
    dialog = open_cancel(appointment)
    texts = [label.text() for label in dialog.findChildren(QWidget) if hasattr(label, "text")]
    assert "Jane Doe" in texts and "Dr Ng" in texts
    start = appointment.start.astimezone()
    assert any(f"{start:%H:%M}" in str(text) for text in texts)
    assert focused() is dialog.reason_combo
    shoot(dialog, "dialog-cancel-appointment.png", screenshot_dir)

    press(Qt.Key.Key_Down)
    press(Qt.Key.Key_Down)
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        press(Qt.Key.Key_Return)
    assert dialog.reason() == "Clinician unavailable"


def test_cancel_dialog_typed_reason_and_escape(
    qtbot: QtBot, store: LocalStore, open_cancel: Callable[[Appointment], CancelDialog]
) -> None:
    appointment = book(store)
    typed = open_cancel(appointment)
    type_here("Patient admitted to ward")
    with qtbot.waitSignal(typed.accepted, timeout=1000):
        press(Qt.Key.Key_Return)
    assert typed.reason() == "Patient admitted to ward"

    kept = open_cancel(appointment)
    with qtbot.waitSignal(kept.rejected, timeout=1000):
        press(Qt.Key.Key_Escape)
    assert stored(store)[0].status is appointment.status  # the dialog writes nothing


def test_typing_into_the_clicked_minutes_replaces_them(
    qtbot: QtBot, open_dialog: OpenDialog
) -> None:
    dialog = open_dialog()
    edit = dialog.start_edit
    line = edit.lineEdit()
    assert line.text().endswith(clock_text(NEXT_QUARTER))
    # Where the minutes are on screen: the clerk clicks between their two digits.
    line.setCursorPosition(len(line.text()) - 1)
    where = line.cursorRect().center()
    line.setCursorPosition(0)
    QTest.mouseClick(line, Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: line.selectedText() == f"{NEXT_QUARTER.astimezone():%M}")
    QTest.keyClicks(line, "39")
    assert edit.time().minute() == 39
    assert edit.time().hour() == NEXT_QUARTER.astimezone().hour


def test_cancel_asks_before_throwing_away_a_typed_new_patient(
    qtbot: QtBot, open_dialog: OpenDialog, store: LocalStore
) -> None:
    dialog = open_dialog()
    rejected: list[bool] = []
    dialog.rejected.connect(lambda: rejected.append(True))
    dialog.name_edit.setFocus()
    type_here("Jane Doe")
    click(dialog.cancel_button)
    box = dialog.discard_box
    assert box is not None
    qtbot.waitExposed(box)
    assert "Jane Doe" in box.text()
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # keep editing: nothing is lost
    qtbot.waitUntil(lambda: dialog.discard_box is None)
    assert dialog.isVisible() and dialog.name_edit.text() == "Jane Doe" and not rejected
    press(Qt.Key.Key_Escape)  # Esc is a Cancel too: asked again
    box = dialog.discard_box
    assert box is not None
    qtbot.waitExposed(box)
    discard = box.button(QMessageBox.StandardButton.Discard)
    assert discard is not None
    click(discard)
    qtbot.waitUntil(lambda: bool(rejected))
    assert not dialog.isVisible() and stored(store) == []


def test_cancel_on_an_untouched_dialog_closes_at_once(
    qtbot: QtBot, open_dialog: OpenDialog
) -> None:
    dialog = open_dialog()
    with qtbot.waitSignal(dialog.rejected, timeout=2000):
        click(dialog.cancel_button)
    assert dialog.discard_box is None
