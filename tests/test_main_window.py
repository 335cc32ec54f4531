"""The Clinic Schedule window driven as a user would: keyboard, dialogs, live status, filters."""

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDialog, QMenu
from pytestqt.qtbot import QtBot
from sqlmodel import Session

from app.application import AppConfig, Application
from app.store import directory
from app.ui.schedule.actions_menu import build_actions_menu
from app.ui.schedule.appointment_dialog import AppointmentDialog
from app.ui.schedule.cancel_dialog import CancelDialog
from app.views.schedule_columns import Column, Role
from shared.clock import FixedClock
from shared.enums import AppointmentStatus, DisplayState
from shared.events import PatientArrived, PatientLeft
from tests.conftest import CLERK, DR_NG, DR_OKAFOR, NOW, ST_MARYS

DialogT = TypeVar("DialogT", bound=QDialog)


def seed_directory(session: Session) -> None:
    for member in (DR_NG, DR_OKAFOR, CLERK):
        directory.add_staff(session, member)
    directory.add_location(session, ST_MARYS)


def make_app(tmp_path: Path, clock: FixedClock, qtbot: QtBot) -> Application:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    application = Application(AppConfig(tmp_path / "data", False, settings), clock=clock)
    if not application.store.staff().result():
        application.store.run(seed_directory).result()
    # No qtbot.addWidget: Application.shutdown closes the window and lets Qt delete it.
    with qtbot.waitSignal(application.schedule.directoryLoaded):
        application.start()
    qtbot.waitUntil(lambda: application.model.shown_range is not None)
    return application


@pytest.fixture
def desk(tmp_path: Path, clock: FixedClock, qtbot: QtBot) -> Iterator[Application]:
    application = make_app(tmp_path, clock, qtbot)
    yield application
    application.shutdown()


def open_dialog(qtbot: QtBot, desk: Application) -> AppointmentDialog:
    qtbot.keyClick(desk.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desk.window.findChild(AppointmentDialog) is not None)
    dialog = desk.window.findChild(AppointmentDialog)
    assert isinstance(dialog, AppointmentDialog)
    qtbot.waitExposed(dialog)
    return dialog


def book(qtbot: QtBot, desk: Application, name: str, email: str) -> int:
    """Book through the dialog with keystrokes; return the new row in the source model."""
    rows = desk.model.rowCount()
    dialog = open_dialog(qtbot, desk)
    qtbot.keyClicks(dialog.name_edit, name)
    qtbot.keyClicks(dialog.email_edit, email)
    qtbot.keyClicks(dialog.clinician_combo, "Dr N")  # keyboard search picks "Dr Ng"
    qtbot.keyClick(dialog.email_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.model.rowCount() == rows + 1)
    qtbot.waitUntil(lambda: desk.window.findChild(AppointmentDialog) is None)  # closed, deleted
    return rows


def press_on_first_row(
    qtbot: QtBot, desk: Application, key: Qt.Key, expected: type[DialogT]
) -> DialogT:
    """Select the first row, press `key` in the schedule and return the dialog it opens."""
    view = desk.window.view
    view.setFocus()
    view.setCurrentIndex(desk.window.proxy.index(0, Column.PATIENT))
    qtbot.keyClick(view, key)
    qtbot.waitUntil(lambda: desk.window.findChild(expected) is not None)
    dialog = desk.window.findChild(expected)
    assert isinstance(dialog, expected)
    qtbot.waitExposed(dialog)
    return dialog


def cell(desk: Application, row: int, column: Column, role: int) -> object:
    return desk.model.index(row, column).data(role)


def shoot(desk: Application, screenshot_dir: Path | None, name: str) -> None:
    if screenshot_dir is not None:
        assert desk.window.grab().save(str(screenshot_dir / name))


def test_book_arrive_wait_take(qtbot: QtBot, desk: Application, clock: FixedClock,
                               screenshot_dir: Path | None) -> None:
    row = book(qtbot, desk, "Ann Lee", "ann@example.org")
    assert cell(desk, row, Column.PATIENT, Qt.ItemDataRole.DisplayRole) == "Ann Lee"
    # The controller's word reaches the status line through the message bridge.
    assert desk.window.statusBar().currentMessage().startswith("Saved Ann Lee at ")
    assert cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.SCHEDULED
    assert cell(desk, row, Column.STATUS, Qt.ItemDataRole.DisplayRole) == "Scheduled"
    appointment = desk.model.appointment_at(row)
    assert appointment.clinician == DR_NG and appointment.start == NOW + timedelta(minutes=15)

    # The patient enters the waiting room 2 minutes before the start: green, timer counting.
    clock.set(appointment.start - timedelta(minutes=2))
    desk.waiting_room.apply(PatientArrived(appointment.id, clock.now()))
    assert cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.WAITING
    assert cell(desk, row, Column.WAITING, Qt.ItemDataRole.DisplayRole) == "00:00"
    clock.advance(3)
    desk.model.tick()
    assert cell(desk, row, Column.WAITING, Qt.ItemDataRole.DisplayRole) == "00:03"
    clock.advance(62)
    desk.model.tick()
    assert cell(desk, row, Column.WAITING, Qt.ItemDataRole.DisplayRole) == "01:05"
    qtbot.waitUntil(lambda: "1 waiting" in desk.window.counts.text())
    shoot(desk, screenshot_dir, "main-window-waiting.png")

    # The call is taken: light blue, row greyed, no waiting time.
    desk.schedule.set_status(appointment.id, AppointmentStatus.TAKEN)
    qtbot.waitUntil(lambda: cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.TAKEN)
    assert cell(desk, row, Column.PATIENT, Qt.ItemDataRole.ForegroundRole) is not None
    assert cell(desk, row, Column.WAITING, Qt.ItemDataRole.DisplayRole) == ""
    desk.waiting_room.apply(PatientLeft(appointment.id))
    assert cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.TAKEN


def test_filter_from_the_keyboard(qtbot: QtBot, desk: Application) -> None:
    book(qtbot, desk, "Ann Lee", "ann@example.org")
    dialog_rows = desk.model.rowCount()
    assert dialog_rows == 1
    qtbot.keyClick(desk.window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert desk.window.filter_bar.text.hasFocus()
    qtbot.keyClicks(desk.window.filter_bar.text, "zzz")
    assert desk.window.proxy.rowCount() == 0
    qtbot.waitUntil(lambda: "0 of 1 shown" in desk.window.counts.text())
    desk.window.filter_bar.text.clear()
    qtbot.keyClicks(desk.window.filter_bar.text, "lee")
    assert desk.window.proxy.rowCount() == 1


def test_cancel_with_delete_and_confirmation(qtbot: QtBot, desk: Application,
                                             screenshot_dir: Path | None) -> None:
    row = book(qtbot, desk, "Ann Lee", "ann@example.org")
    dialog = press_on_first_row(qtbot, desk, Qt.Key.Key_Delete, CancelDialog)
    if screenshot_dir is not None:
        dialog.grab().save(str(screenshot_dir / "dialog-cancel.png"))
    qtbot.keyClicks(dialog.reason_combo, "Patient request")
    qtbot.keyClick(dialog.reason_combo, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.CANCELLED)
    stored = desk.store.get_appointment(desk.model.appointment_at(row).id).result()
    assert stored.status is AppointmentStatus.CANCELLED
    assert stored.cancel_reason == "Patient request"


def test_escape_keeps_the_appointment(qtbot: QtBot, desk: Application) -> None:
    row = book(qtbot, desk, "Ann Lee", "ann@example.org")
    desk.window.view.setCurrentIndex(desk.window.proxy.index(0, Column.PATIENT))
    dialog = desk.appointments.cancel(desk.model.appointment_at(row))
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: desk.window.findChild(CancelDialog) is None)
    assert cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.SCHEDULED


def test_actions_menu_says_why_actions_are_disabled(
    qtbot: QtBot, desk: Application, clock: FixedClock
) -> None:
    row = book(qtbot, desk, "Ann Lee", "ann@example.org")
    appointment = desk.model.appointment_at(row)
    menu = build_actions_menu(appointment, desk.clock.now(), desk.window.trigger, desk.window)
    assert isinstance(menu, QMenu)
    actions = {action.objectName(): action for action in menu.actions() if action.objectName()}
    assert set(actions) == {
        "video_call", "phone_call", "resend_invite", "copy_link", "message_patient", "edit",
        "cancel", "no_show", "create_task", "add_to_list", "call_attempts",
    }
    # This desktop is not signed in to a server: invites say so instead of failing later.
    assert not actions["resend_invite"].isEnabled()
    assert "not signed in" in actions["copy_link"].toolTip()
    assert actions["edit"].isEnabled() and actions["cancel"].isEnabled()
    assert not actions["video_call"].isEnabled()
    assert "not signed in" in actions["video_call"].toolTip()
    assert not actions["no_show"].isEnabled()  # it has not started yet
    assert "not started" in actions["no_show"].toolTip()
    assert not actions["call_attempts"].isEnabled()  # a video appointment rings no phone
    assert actions["call_attempts"].toolTip() == (
        "Only a phone appointment rings the patient's phone.")

    clock.advance(20 * 60)
    menu = build_actions_menu(appointment, desk.clock.now(), desk.window.trigger, desk.window)
    no_show = next(a for a in menu.actions() if a.objectName() == "no_show")
    assert no_show.isEnabled()
    no_show.trigger()
    qtbot.waitUntil(lambda: cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.NO_SHOW)


def test_week_view_and_day_navigation(qtbot: QtBot, desk: Application) -> None:
    book(qtbot, desk, "Ann Lee", "ann@example.org")
    navigator = desk.window.navigator
    navigator.week_button.click()
    qtbot.waitUntil(lambda: desk.model.shown_range is not None and
                    desk.model.shown_range[1] - desk.model.shown_range[0] == timedelta(days=7))
    assert "Week of" in desk.window.heading.text()
    assert desk.model.rowCount() == 1
    week_text = str(cell(desk, 0, Column.TIME, Qt.ItemDataRole.DisplayRole))
    assert week_text == "Thu, 26 Nov 08:15–08:35"
    # The Time column fits the week's longer text (it was cut to "Thu 26 Nov 08:…").
    view = desk.window.view
    qtbot.waitUntil(lambda: view.columnWidth(Column.TIME) >= view.sizeHintForColumn(Column.TIME))
    navigator.next.click()
    qtbot.waitUntil(lambda: desk.model.rowCount() == 0)
    navigator.today.click()
    qtbot.waitUntil(lambda: desk.model.rowCount() == 1)
    navigator.day_button.click()
    navigator.previous.click()
    qtbot.waitUntil(lambda: desk.model.rowCount() == 0)
    assert desk.window.heading.text() == "Wednesday, 25 November 2026"


def test_filters_are_remembered_across_restarts(tmp_path: Path, clock: FixedClock,
                                                qtbot: QtBot) -> None:
    first = make_app(tmp_path, clock, qtbot)
    bar = first.window.filter_bar
    qtbot.waitUntil(lambda: bar.clinician.count() == 3)
    bar.text.setText("lee")
    bar.status.setCurrentIndex(bar.status.findText("Waiting"))
    bar.kind.setCurrentIndex(bar.kind.findText("Phone"))
    bar.clinician.setCurrentIndex(bar.clinician.findText("Dr Okafor"))
    first.window.navigator.week_button.click()
    first.window.close()
    first.shutdown()

    second = make_app(tmp_path, clock, qtbot)
    bar = second.window.filter_bar
    qtbot.waitUntil(lambda: bar.clinician.currentText() == "Dr Okafor")
    assert bar.text.text() == "lee"
    assert bar.status.currentText() == "Waiting"
    assert bar.kind.currentText() == "Phone"
    assert second.window.proxy.current_filter.clinician_id == DR_OKAFOR.id
    assert second.window.navigator.week_button.isChecked()
    second.shutdown()


def test_screenshot_of_the_demo_clinic(qtbot: QtBot, tmp_path: Path,
                                       screenshot_dir: Path | None) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    # Mid-morning in the workstation's zone, so the picture shows a clinic in full swing.
    morning = datetime.combine(NOW.date(), time(10, 7, 31)).astimezone()
    demo = Application(AppConfig(tmp_path / "demo", True, settings), clock=FixedClock(morning))
    demo.start()
    qtbot.waitUntil(lambda: demo.model.rowCount() >= 25)
    model = demo.model
    states = {model.state_of(model.appointment_at(r)) for r in range(model.rowCount())}
    assert DisplayState.WAITING in states and DisplayState.SCHEDULED in states
    QApplication.processEvents()
    shoot(demo, screenshot_dir, "main-window-demo.png")
    demo.shutdown()


def test_enter_opens_the_appointment_for_editing(qtbot: QtBot, desk: Application) -> None:
    row = book(qtbot, desk, "Ann Lee", "ann@example.org")
    dialog = press_on_first_row(qtbot, desk, Qt.Key.Key_Return, AppointmentDialog)
    assert dialog.name_edit.text() == "Ann Lee"
    qtbot.keyClicks(dialog.notes_edit, "Bring glucose diary")
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.model.appointment_at(row).version == 2)
    assert cell(desk, row, Column.NOTES, Qt.ItemDataRole.DisplayRole) == "Bring glucose diary"
    assert desk.model.rowCount() == 1


def test_the_actions_column_opens_the_menu(qtbot: QtBot, desk: Application) -> None:
    book(qtbot, desk, "Ann Lee", "ann@example.org")
    view = desk.window.view
    index = desk.window.proxy.index(0, Column.ACTIONS)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualRect(index).center())
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    assert "Ann Lee" in menu.title()
    menu.close()


def test_an_unexpected_error_reaches_the_crash_handler(
    qtbot: QtBot, desk: Application, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.common.crash_handler import CrashHandler

    handler = CrashHandler(str(tmp_path / "clinic-desk.log"), show_dialog=False)
    monkeypatch.setattr("sys.excepthook", handler.excepthook)

    def broken(session: Session) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("app.store.appointments.save_appointment", lambda *a: broken(a[0]))
    answers: list[object] = []
    dialog = open_dialog(qtbot, desk)
    desk.schedule.save_appointment(dialog.draft(), lambda result, error: answers.append(error))
    qtbot.waitUntil(lambda: bool(answers))
    assert handler.count == 1
    assert "nothing was changed" in str(answers[0])


def test_new_appointment_preselects_the_filtered_clinician(
    qtbot: QtBot, desk: Application
) -> None:
    bar = desk.window.filter_bar
    qtbot.waitUntil(lambda: bar.clinician.count() == 3)
    bar.clinician.setCurrentIndex(bar.clinician.findText("Dr Okafor"))
    dialog = desk.window.new_appointment()
    assert dialog.clinician_combo.currentText() == "Dr Okafor"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    bar.clinician.setCurrentIndex(0)  # all clinicians: the clerk must choose
    dialog = desk.window.new_appointment()
    assert dialog.clinician_combo.currentIndex() == -1
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)


def test_toolbar_follows_the_selected_row_as_it_changes(
    qtbot: QtBot, desk: Application
) -> None:
    row = book(qtbot, desk, "Ann Lee", "ann@example.org")
    window = desk.window
    window.view.setFocus()
    window.view.setCurrentIndex(window.proxy.index(0, Column.PATIENT))
    assert window.edit_action.isEnabled() and window.cancel_action.isEnabled()
    # Another desktop cancels it while it stays selected: Edit and Cancel grey out by themselves.
    desk.schedule.set_status(desk.model.appointment_at(row).id, AppointmentStatus.CANCELLED)
    qtbot.waitUntil(lambda: cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.CANCELLED)
    qtbot.waitUntil(lambda: not window.edit_action.isEnabled())
    assert not window.cancel_action.isEnabled()
    assert window.view.current_appointment() is not None  # still the selected row


def test_title_count_and_ctrl_q(qtbot: QtBot, desk: Application) -> None:
    window = desk.window
    # Qt appends the display name to a title that does not end with it: said once either way.
    assert window.windowTitle().count("Clinic Desk") == 1
    assert window.windowTitle().endswith("Clinic Desk")
    qtbot.waitUntil(lambda: window.counts.text() == "0 appointments · 0 waiting")
    book(qtbot, desk, "Ann Lee", "ann@example.org")
    qtbot.waitUntil(lambda: window.counts.text() == "1 appointment · 0 waiting")
    window.view.setFocus()
    with qtbot.waitSignal(window.closed):
        qtbot.keyClick(window.view, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_a_clinician_booking_has_themself_preselected(qtbot: QtBot, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    # The demo clinic on this computer: Dr Amara Ng is signed in; Dr Tom Okafor works there too.
    demo = Application(AppConfig(tmp_path / "demo", True, settings), clock=FixedClock(NOW))
    try:
        with qtbot.waitSignal(demo.schedule.directoryLoaded):
            demo.start()
        assert {m.name for m in demo.schedule.staff} >= {"Dr Amara Ng", "Dr Tom Okafor"}
        qtbot.keyClick(demo.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: demo.window.findChild(AppointmentDialog) is not None)
        dialog = demo.window.findChild(AppointmentDialog)
        assert isinstance(dialog, AppointmentDialog)
        assert dialog.clinician_combo.currentText() == "Dr Amara Ng"
        dialog.reject()
    finally:
        demo.shutdown()


def test_an_early_patient_shows_early_then_turns_green_by_itself(
    qtbot: QtBot, desk: Application, clock: FixedClock, screenshot_dir: Path | None
) -> None:
    row = book(qtbot, desk, "Ann Lee", "ann@example.org")
    appointment = desk.model.appointment_at(row)
    # The patient joins 12 minutes before the start: in the waiting room, early, not green.
    clock.set(appointment.start - timedelta(minutes=12))
    arrived = clock.now()
    desk.waiting_room.apply(PatientArrived(appointment.id, arrived))
    since = f"{arrived.astimezone():%H:%M}"
    status = cell(desk, row, Column.STATUS, Qt.ItemDataRole.DisplayRole)
    assert status == f"In the waiting room early (since {since})"
    assert cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.SCHEDULED
    assert cell(desk, row, Column.WAITING, Qt.ItemDataRole.DisplayRole) == ""
    assert "turns green at" in str(cell(desk, row, Column.STATUS, Qt.ItemDataRole.ToolTipRole))
    assert f"early (since {since})" in str(
        cell(desk, row, Column.STATUS, Qt.ItemDataRole.AccessibleTextRole))
    window = desk.window
    qtbot.waitUntil(lambda: window.counts.text() == "1 appointment · 0 waiting · 1 here early")
    # The whole text fits its column (no "In the waiting r…").
    needed = window.view.sizeHintForColumn(Column.STATUS)
    assert window.view.columnWidth(Column.STATUS) >= needed, needed
    shoot(desk, screenshot_dir, "main-window-early.png")

    # Nobody touches anything: at start - 5 min the waiting room's own tick turns it green.
    assert desk.waiting_room.ticking
    clock.set(appointment.start - timedelta(minutes=5))
    qtbot.waitUntil(lambda: cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.WAITING,
                    timeout=3000)
    assert cell(desk, row, Column.STATUS, Qt.ItemDataRole.DisplayRole) == "Waiting"
    assert cell(desk, row, Column.WAITING, Qt.ItemDataRole.DisplayRole) == "07:00"
    qtbot.waitUntil(lambda: window.counts.text() == "1 appointment · 1 waiting")
