"""The desktop window against a real server: sign in, book, see it sent, see others' changes
arrive by the realtime hint, refusals listed with the server's reason."""

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.application import AppConfig, Application, SignedIn
from app.services.account_service import AccountService
from app.startup import Startup
from app.sync.sync_status import Connection
from app.ui.account.login_dialog import LoginDialog
from app.views.schedule_columns import Column
from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind, SyncState
from shared.records import Appointment
from tests.server.server_process import LiveServer
from tests.sync.desk import Desk, tomorrow_at
from tests.sync.live_server import PASSWORD, LiveClinic
from tests.sync.qt_loop import QtLoop, qt_loop


@pytest.fixture
def qloop(qapp: object) -> Iterator[QtLoop]:
    with qt_loop(qapp) as loop:
        yield loop


def open_window(tmp_path: Path, qloop: QtLoop, url: str, username: str) -> Application:
    settings = QSettings(str(tmp_path / f"{username}.ini"), QSettings.Format.IniFormat)
    accounts = AccountService(settings)
    account, api = qloop.run(accounts.sign_in(url, username, PASSWORD))
    application = Application(AppConfig(tmp_path / "data", False, settings),
                              signed_in=SignedIn(account, api, accounts))
    application.start()
    assert application.sync is not None
    qloop.wait_until(lambda: application.sync is not None
                     and application.sync.status.connection is Connection.ONLINE
                     and application.sync.realtime.connected)
    # A fresh store: the staff for the dialogs come from the server's directory.
    qloop.wait_until(lambda: "Dr Ng" in {m.name for m in application.schedule.staff})
    return application


def close_window(qloop: QtLoop, application: Application) -> None:
    qloop.run(application.stop_sync())
    application.shutdown()
    # Let Qt delete the window now (deleteLater), on this thread, before the next test.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def shoot(widget: object, screenshot_dir: Path | None, name: str) -> None:
    if screenshot_dir is not None:
        assert widget.grab().save(str(screenshot_dir / name))  # type: ignore[attr-defined]


async def other_view(tmp_path: Path, url: str) -> set[UUID]:
    """What Dr Ng's own desktop gets from the server: the ids of the appointments."""
    desk = Desk(tmp_path / "check.sqlite3", url, "ng")
    try:
        await desk.sign_in()
        await desk.sync()
        return {a.id for a in await desk.appointments()}
    finally:
        await desk.close()


def show_day_of(qloop: QtLoop, application: Application, when: datetime) -> None:
    day = when.astimezone().date()
    application.window.navigator.set_date(day)
    qloop.wait_until(lambda: application.model.shown_range is not None
                     and application.model.shown_range[0].date() == day)


def rows(application: Application) -> dict[UUID, Appointment]:
    model = application.model
    return {model.appointment_at(r).id: model.appointment_at(r) for r in range(model.rowCount())}


def test_another_desktops_booking_appears_within_a_second_or_two(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, clinic: LiveClinic,
) -> None:
    window = open_window(tmp_path, qloop, live.url, "ng")
    other = Desk(tmp_path / "other.sqlite3", live.url, "clerk")
    try:
        qloop.run(other.sign_in())
        qloop.run(other.sync())
        show_day_of(qloop, window, tomorrow_at(9))
        booked = qloop.run(other.book(clinic.ids["ng"], tomorrow_at(9), "Ada Lovelace"))
        qloop.run(other.sync())
        # No pull was asked for: the realtime "changes" hint makes the window pull.
        took = qloop.wait_until(lambda: booked.id in rows(window), timeout=5)
        assert took < 2.0
        assert rows(window)[booked.id].sync_state is SyncState.SYNCED
    finally:
        qloop.run(other.close())
        close_window(qloop, window)


def test_a_refused_booking_keeps_its_data_and_needs_attention(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, clinic: LiveClinic,
    screenshot_dir: Path | None,
) -> None:
    window = open_window(tmp_path, qloop, live.url, "ng")
    other = Desk(tmp_path / "other.sqlite3", live.url, "clerk")
    assert window.sync is not None and window.sync_controls is not None
    try:
        qloop.run(other.sign_in())
        qloop.run(other.sync())
        show_day_of(qloop, window, tomorrow_at(10))
        # The window goes offline; meanwhile the clerk books Dr Ng at 10:00 and it lands.
        qloop.run(window.sync.stop())
        first = qloop.run(other.book(clinic.ids["ng"], tomorrow_at(10), "Alan Turing"))
        qloop.run(other.sync())
        # Offline, the window books 10:05 for Grace Hopper: it does not know of 10:00 yet.
        draft = AppointmentDraft(PatientDraft("Grace Hopper", email="grace@example.org"),
                                 clinic.ids["ng"], tomorrow_at(10, 5), 15, AppointmentKind.VIDEO)
        saved: list[Appointment | None] = []
        window.schedule.save_appointment(draft, lambda result, _error: saved.append(result))
        qloop.wait_until(lambda: bool(saved))
        mine = saved[0]
        assert mine is not None
        qloop.wait_until(lambda: mine.id in rows(window))
        assert rows(window)[mine.id].sync_state is SyncState.PENDING
        patient_cell = window.model.index(window.model.row_of(mine.id) or 0, Column.PATIENT)
        assert "not yet sent" in patient_cell.data(Qt.ItemDataRole.ToolTipRole)

        window.sync.start()  # back online
        qloop.wait_until(lambda: first.id in rows(window)
                         and rows(window)[mine.id].sync_state is SyncState.REJECTED)
        refused = rows(window)[mine.id]
        assert refused.patient.name == "Grace Hopper"  # the user's data is kept
        assert "already has an appointment" in refused.sync_message
        qloop.wait_until(lambda: window.sync is not None and window.sync.status.rejected == 1)
        bar = window.sync_controls.bar
        assert bar.attention.isVisible() and "1 needs attention" in bar.attention.text()
        shoot(window.window, screenshot_dir, "sync-refused-row.png")

        dialog = window.sync_controls.show_attention()
        qloop.wait_until(lambda: dialog.table.rowCount() == 1)
        reason = dialog.table.item(0, 2)
        assert reason is not None and "already has an appointment" in reason.text()
        shoot(dialog, screenshot_dir, "sync-needs-attention.png")
        dialog.discard_button.click()
        qloop.wait_until(lambda: mine.id not in rows(window))
        qloop.wait_until(lambda: dialog.table.rowCount() == 0 and dialog.empty.isVisible())
        dialog.close()
        assert set(rows(window)) == {first.id}
    finally:
        qloop.run(other.close())
        close_window(qloop, window)


def test_a_revoked_session_asks_to_sign_in_and_keeps_unsent_work(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, clinic: LiveClinic,
    screenshot_dir: Path | None,
) -> None:
    window = open_window(tmp_path, qloop, live.url, "clerk")
    assert window.sync is not None and window.sync_controls is not None
    try:
        qloop.run(window.sync.stop())
        draft = AppointmentDraft(PatientDraft("Mary Seacole", email="mary@example.org"),
                                 clinic.ids["ng"], tomorrow_at(14), 15, AppointmentKind.VIDEO)
        saved: list[Appointment | None] = []
        window.schedule.save_appointment(draft, lambda result, _error: saved.append(result))
        qloop.wait_until(lambda: bool(saved))
        # The session ends on the server (as a logout elsewhere or an admin would do it).
        assert window.signed_in is not None
        token = window.signed_in.accounts.tokens.load(live.url, "clerk")
        assert token is not None
        httpx.post(f"{live.url}/auth/logout", json={"refresh_token": token})
        window.signed_in.api.forget_access()
        window.sync.start()
        qloop.wait_until(lambda: window.sync_controls is not None
                         and window.sync_controls.login is not None)
        login = window.sync_controls.login
        assert isinstance(login, LoginDialog) and login.username.isReadOnly()
        qloop.wait_until(lambda: window.sync is not None
                         and window.sync.status.connection is Connection.SIGNED_OUT)
        assert window.sync.status.pending == 2  # nothing lost: patient and appointment
        shoot(login, screenshot_dir, "sync-sign-in-again.png")
        login.password.setText("wrong password")
        login.submit()
        qloop.wait_until(lambda: login.error.isVisible() and "Wrong" in login.error.text())
        login.password.setText(PASSWORD)
        login.submit()
        qloop.wait_until(lambda: window.sync is not None and window.sync.status.pending == 0
                         and window.sync.status.connection is Connection.ONLINE)
        assert saved[0] is not None
        server = qloop.run(other_view(tmp_path, live.url))
        assert saved[0].id in server
    finally:
        close_window(qloop, window)


def test_signed_in_the_idle_lock_asks_for_the_password(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, screenshot_dir: Path | None,
) -> None:
    window = open_window(tmp_path, qloop, live.url, "clerk")
    try:
        lock = window.idle_lock
        lock.lock()
        overlay = lock.overlay
        assert lock.locked and overlay.password.isVisible()
        overlay.password.setText("not my password")
        overlay.unlock_button.click()
        assert lock.locked and "not your password" in overlay.refusal.text()
        shoot(window.window, screenshot_dir, "idle-lock-password.png")
        overlay.password.setText(PASSWORD)
        qtbot.keyClick(overlay.password, Qt.Key.Key_Return)
        assert not lock.locked
        assert overlay.password.text() == ""
    finally:
        close_window(qloop, window)


def test_startup_signs_in_remembers_the_session_and_signs_out(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, screenshot_dir: Path | None,
) -> None:
    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    config = AppConfig(tmp_path / "data", False, settings)
    quit_event = asyncio.Event()
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    qapp.setQuitOnLastWindowClosed(False)  # as main() does: the startup decides when to end
    startup = Startup(config, quit_event)
    running = asyncio.ensure_future(startup.run(), loop=qloop.loop)
    qloop.wait_until(lambda: startup.dialog is not None and startup.dialog.isVisible())
    dialog = startup.dialog
    assert dialog is not None
    shoot(dialog, screenshot_dir, "sign-in.png")
    dialog.server.setText(live.url)
    dialog.username.setText("clerk")
    dialog.password.setText(PASSWORD)
    dialog.submit()
    qloop.wait_until(lambda: startup.application is not None
                     and startup.application.window.isVisible())
    application = startup.application
    assert application is not None and application.sync_controls is not None
    assert application.signed_in is not None
    assert application.store.path.name == f"{application.signed_in.account.user.id}.sqlite3"
    # The refresh token is in the (test) keychain, not in the settings file.
    settings.sync()
    assert "refresh" not in (tmp_path / "app.ini").read_text().lower()
    assert AccountService(settings).remembered() is not None

    application.sync_controls.confirm_sign_out()  # nothing pending: no question asked
    qloop.wait_until(lambda: startup.dialog is not None and startup.dialog.isVisible()
                     and startup.application is None)
    assert AccountService(settings).remembered() is None  # signed out: sign in next time
    second = startup.dialog
    assert second is not None
    second.reject()  # the user closes the sign-in: the app ends
    qloop.run(asyncio.wait_for(running, 10))
    assert running.done() and running.exception() is None
    qapp.setQuitOnLastWindowClosed(True)
