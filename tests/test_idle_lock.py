"""The idle privacy lock over the real application: the clock moves, the user types and unlocks."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.application import Application
from app.policy.linux_file import PATH_VARIABLE
from app.ui.lock.idle_lock import LOCKED_TITLE
from app.ui.schedule.appointment_dialog import AppointmentDialog
from app.ui.settings.settings_dialog import CALLS_NOTE, SettingsDialog
from app.views.schedule_columns import Column, Role
from shared.clock import FixedClock
from shared.enums import DisplayState
from shared.events import PatientArrived
from tests.test_main_window import book, cell, make_app, open_dialog

SCREENSHOT = Path("/tmp/shots/idle-lock.png")


@pytest.fixture(autouse=True)
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's policy file (absent until a test writes it); never the machine's /etc."""
    path = tmp_path / "policy.toml"
    monkeypatch.setenv(PATH_VARIABLE, str(path))
    return path


def user_minutes(tmp_path: Path, minutes: int) -> None:
    """The user's own choice, as the Settings dialog would have saved it."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/idle_lock_minutes", minutes)
    settings.sync()


@pytest.fixture
def desk(tmp_path: Path, clock: FixedClock, qtbot: QtBot) -> Iterator[Application]:
    """The app with a 5-minute idle lock chosen by the user."""
    user_minutes(tmp_path, 5)
    application = make_app(tmp_path, clock, qtbot)
    qtbot.waitExposed(application.window)
    yield application
    application.shutdown()


def lock_now(desk: Application, clock: FixedClock) -> None:
    clock.advance(desk.idle_lock.minutes * 60 + 1)
    assert desk.idle_lock.check()
    assert desk.idle_lock.locked


def assert_locked(desk: Application) -> None:
    overlay = desk.idle_lock.overlay
    assert overlay.isVisible()
    assert overlay.geometry() == desk.window.rect()  # the whole window, toolbar and all
    central = desk.window.centralWidget()
    assert central is not None and not central.isVisible()
    assert overlay.title.text() == LOCKED_TITLE


def assert_unlocked(desk: Application) -> None:
    assert not desk.idle_lock.locked
    assert not desk.idle_lock.overlay.isVisible()
    central = desk.window.centralWidget()
    assert central is not None and central.isVisible()


def test_locks_after_the_idle_time_without_input(
    qtbot: QtBot, desk: Application, clock: FixedClock, screenshot_dir: Path | None
) -> None:
    row = book(qtbot, desk, "Ann Lee", "ann@example.org")
    assert desk.idle_lock.minutes == 5
    clock.advance(5 * 60 - 1)
    assert not desk.idle_lock.check()
    assert not desk.idle_lock.overlay.isVisible()
    clock.advance(2)
    with qtbot.waitSignal(desk.idle_lock.lockedChanged) as signal:
        assert desk.idle_lock.check()
    assert signal.args == [True]
    assert_locked(desk)
    overlay = desk.idle_lock.overlay
    assert overlay.accessibleName() == "Clinic Desk is locked"
    assert LOCKED_TITLE in overlay.accessibleDescription()
    assert "after 5 minutes without use" in overlay.detail.text()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is overlay.unlock_button)
    desk.window.resize(900, 600)
    qtbot.waitUntil(lambda: overlay.geometry() == desk.window.rect())  # follows the window
    desk.window.resize(1180, 720)
    qtbot.waitUntil(lambda: overlay.geometry() == desk.window.rect())

    # The schedule keeps updating underneath: the patient arrives while the desk is locked.
    appointment = desk.model.appointment_at(row)
    clock.set(appointment.start - timedelta(minutes=2))
    desk.waiting_room.apply(PatientArrived(appointment.id, clock.now()))
    assert cell(desk, row, Column.STATUS, Role.STATE) == DisplayState.WAITING
    qtbot.waitUntil(lambda: "1 waiting" in desk.window.counts.text())

    QApplication.processEvents()
    picture = desk.window.grab()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert picture.save(str(SCREENSHOT))
    if screenshot_dir is not None:
        assert picture.save(str(screenshot_dir / "idle-lock.png"))


def test_the_timer_locks_on_its_own(qtbot: QtBot, desk: Application, clock: FixedClock) -> None:
    assert desk.idle_lock.timer.isActive()
    desk.idle_lock.timer.setInterval(10)
    clock.advance(5 * 60 + 1)
    with qtbot.waitSignal(desk.idle_lock.lockedChanged, timeout=2000):
        pass
    assert_locked(desk)


def test_input_before_the_deadline_postpones_the_lock(
    qtbot: QtBot, desk: Application, clock: FixedClock
) -> None:
    book(qtbot, desk, "Ann Lee", "ann@example.org")
    view = desk.window.view
    clock.advance(4 * 60)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert desk.idle_lock.last_input == clock.now()
    clock.advance(4 * 60)
    assert not desk.idle_lock.check()  # 8 minutes since the start, 4 since the key
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton)
    clock.advance(4 * 60)
    assert not desk.idle_lock.check()
    clock.advance(60 + 1)
    assert desk.idle_lock.check()
    assert_locked(desk)


def test_unlock_from_the_keyboard(qtbot: QtBot, desk: Application, clock: FixedClock) -> None:
    book(qtbot, desk, "Ann Lee", "ann@example.org")
    desk.window.view.setFocus()
    lock_now(desk, clock)
    button = desk.idle_lock.overlay.unlock_button
    qtbot.waitUntil(lambda: QApplication.focusWidget() is button)

    # Nothing beneath the lock answers the keyboard: not Tab, not the shortcuts.
    qtbot.keyClick(button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is button
    qtbot.keyClick(desk.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(desk.window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    assert desk.window.findChild(AppointmentDialog) is None
    assert desk.window.findChild(SettingsDialog) is None

    with qtbot.waitSignal(desk.idle_lock.lockedChanged) as signal:
        qtbot.keyClick(button, Qt.Key.Key_Return)
    assert signal.args == [False]
    assert_unlocked(desk)
    qtbot.waitUntil(lambda: desk.window.view.hasFocus())  # back where the user was
    assert not desk.idle_lock.check()  # the idle time starts again from the unlock

    lock_now(desk, clock)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is button)
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert_unlocked(desk)


def test_an_appointment_dialog_is_hidden_and_comes_back_with_its_text(
    qtbot: QtBot, desk: Application, clock: FixedClock
) -> None:
    dialog = open_dialog(qtbot, desk)
    qtbot.keyClicks(dialog.name_edit, "Ann Lee")
    qtbot.keyClicks(dialog.email_edit, "ann@example.org")
    focused = dialog.focusWidget()
    lock_now(desk, clock)
    assert not dialog.isVisible()
    assert_locked(desk)
    button = desk.idle_lock.overlay.unlock_button
    qtbot.waitUntil(lambda: QApplication.focusWidget() is button)  # not blocked by the dialog

    qtbot.keyClick(button, Qt.Key.Key_Return)
    assert_unlocked(desk)
    qtbot.waitExposed(dialog)
    assert dialog.isVisible() and dialog.isModal()
    assert dialog.name_edit.text() == "Ann Lee"
    assert dialog.email_edit.text() == "ann@example.org"
    assert dialog.focusWidget() is focused  # where the typing goes on
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)


def test_a_settings_change_applies_at_once_and_the_dialog_is_kept(
    qtbot: QtBot, desk: Application, clock: FixedClock
) -> None:
    dialog = desk.window.open_settings()
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.server_edit, "https://desk.example.org")
    lock_now(desk, clock)
    assert not dialog.isVisible()
    qtbot.keyClick(desk.idle_lock.overlay.unlock_button, Qt.Key.Key_Space)
    qtbot.waitExposed(dialog)
    assert dialog.server_edit.text() == "https://desk.example.org"

    dialog.idle_spin.setValue(1)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: desk.window.findChild(SettingsDialog) is None)
    assert desk.idle_lock.minutes == 1
    clock.advance(61)
    assert desk.idle_lock.check()
    assert "after 1 minute without use" in desk.idle_lock.overlay.detail.text()


def test_zero_never_locks(qtbot: QtBot, tmp_path: Path, clock: FixedClock) -> None:
    desk = make_app(tmp_path, clock, qtbot)  # the default: off
    try:
        assert desk.idle_lock.minutes == 0
        assert not desk.idle_lock.timer.isActive()
        clock.advance(24 * 60 * 60)
        assert not desk.idle_lock.check()
        assert not desk.idle_lock.overlay.isVisible()
    finally:
        desk.shutdown()


def test_turning_it_off_in_the_settings_stops_it(
    qtbot: QtBot, desk: Application, clock: FixedClock
) -> None:
    dialog = desk.window.open_settings()
    assert isinstance(dialog, SettingsDialog)
    dialog.idle_spin.setValue(0)
    dialog.save_button.click()
    assert desk.idle_lock.minutes == 0
    assert not desk.idle_lock.timer.isActive()
    clock.advance(60 * 60)
    assert not desk.idle_lock.check()


def test_a_policy_forced_value_applies(
    qtbot: QtBot, tmp_path: Path, clock: FixedClock, policy_file: Path
) -> None:
    policy_file.write_text("idle_lock_minutes = 2\n")
    user_minutes(tmp_path, 0)  # the user's "Off" does not count against the policy
    desk = make_app(tmp_path, clock, qtbot)
    try:
        assert desk.idle_lock.minutes == 2
        assert desk.idle_lock.timer.isActive()
        clock.advance(2 * 60 - 1)
        assert not desk.idle_lock.check()
        clock.advance(2)
        assert desk.idle_lock.check()
        assert_locked(desk)
    finally:
        desk.shutdown()


def test_the_calls_settings_say_what_they_do(qtbot: QtBot, desk: Application) -> None:
    dialog = desk.window.open_settings()
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitExposed(dialog)
    assert dialog.calls_note.text() == CALLS_NOTE
    assert dialog.calls_note.isVisible()
    for field in (dialog.ice_edit, dialog.turn_edit, dialog.test_pattern_check):
        assert field.isEnabled()
    dialog.reject()
