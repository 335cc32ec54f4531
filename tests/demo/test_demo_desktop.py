"""`clinic-desk --demo` end to end: the embedded server starts, the desktop signs in, simulated
patients wait (green), a call connects with their video, hang-up leaves the row taken and
offers a task; "Open as patient" gives a link Chromium walks into the waiting room; the mail
folder holds the invites; quitting ends the server and patient processes."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from PySide6.QtCore import QObject, QSettings, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from app.application import AppConfig
from app.demo.demo_startup import DemoStartup
from app.demo.invite_email_dialog import InviteEmailDialog
from app.demo.invite_mail import invite_files
from app.media.call_state import CallState
from app.sync.sync_status import Connection
from app.ui.call.call_controller import CallController
from app.ui.schedule.actions_menu import ActionKey, action_states
from app.views.schedule_columns import Column, Role
from shared.enums import AppointmentKind, AppointmentStatus, DisplayState
from tests.demo.processes import gone
from tests.server.browser_helpers import DESKTOP, chromium, shown
from tests.sync.memory_keyring import MemoryKeyring
from tests.sync.qt_loop import QtLoop, qt_loop
from tests.sync.test_desktop_sync import rows, shoot

#: The first start of the embedded server (imports, migrations, seeding) on a loaded machine.
SERVER_START_TIMEOUT = 90.0


@pytest.fixture
def qloop(qapp: object) -> Iterator[QtLoop]:
    with qt_loop(qapp) as loop:
        yield loop


class UrlCatcher(QObject):
    """Stands in for the default browser: QDesktopServices hands it the URLs to open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def test_the_demo_runs_the_whole_clinic_on_this_computer(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, screenshot_dir: Path | None,
    memory_keyring: MemoryKeyring,
) -> None:
    settings = QSettings(str(tmp_path / "demo.ini"), QSettings.Format.IniFormat)
    quit_event = asyncio.Event()
    demo = DemoStartup(AppConfig(tmp_path / "data", True, settings), quit_event)
    running = asyncio.ensure_future(demo.run(), loop=qloop.loop)
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("http", catcher, "open")  # type: ignore[arg-type]
    server = patients = None
    try:
        # The window is there before the server answers, and says it is connecting.
        qloop.wait_until(lambda: demo.application is not None, timeout=15)
        assert demo.application is not None and demo.server_label is not None
        application = demo.application
        window = application.window
        assert window.isVisible()
        qloop.wait_until(lambda: demo.ready is not None or running.done(),
                         timeout=SERVER_START_TIMEOUT)
        assert demo.ready is not None, running
        server, patients = demo.server.process, demo.patients.process
        assert server is not None and patients is not None
        assert demo.server_label.text() == f"Demo server: {demo.server.url}"
        assert demo.server.url.startswith("http://127.0.0.1:")
        assert application.sync is not None
        # Signed in through the real sign-in call, and the session kept in memory only.
        assert memory_keyring.secrets == {}
        qloop.wait_until(lambda: application.sync is not None
                         and application.sync.status.connection is Connection.ONLINE
                         and application.sync.realtime.connected, timeout=30)
        arrivals = [a.appointment_id for a in demo.ready.arrivals]
        qloop.wait_until(lambda: set(arrivals) <= set(rows(application)), timeout=30)

        model = application.model

        def state(appointment_id: UUID) -> object:
            row = model.row_of(appointment_id)
            return None if row is None else model.index(row, Column.STATUS).data(Role.STATE)

        # Two patients are waiting from the start: their rows turn green.
        qloop.wait_until(lambda: all(state(a) == DisplayState.WAITING for a in arrivals[:2]),
                         timeout=30)
        shoot(window, screenshot_dir, "demo-main-window.png")

        # Call the first from the green row: their simulated camera arrives here.
        waiting = rows(application)[arrivals[0]]
        # The calls load once the first day is shown (behind the window).
        qloop.wait_until(lambda: window.calls is not None)
        controller = window.calls
        assert isinstance(controller, CallController) and application.calls is not None
        controller.start(waiting)
        qloop.wait_until(lambda: application.calls is not None
                         and application.calls.state is CallState.CONNECTED, timeout=30)
        qloop.wait_until(lambda: application.calls is not None
                         and application.calls.frames_shown > 10, timeout=30)
        assert controller.call_window is not None
        shoot(controller.call_window, screenshot_dir, "demo-call.png")
        qloop.wait_until(lambda: state(arrivals[0]) == DisplayState.TAKEN)
        controller.call_window.hang_up_button.click()
        qloop.wait_until(lambda: application.calls is not None
                         and application.calls.state is CallState.ENDED)
        assert controller.call_window.follow_up_button.isVisible()  # Create related task

        # Open as patient: a fresh link, handed to "the default browser"; Chromium follows it
        # into the waiting room and this desktop sees the patient arrive.
        later = next(a for a in rows(application).values()
                     if a.kind is AppointmentKind.VIDEO and a.id not in arrivals
                     and a.status is AppointmentStatus.SCHEDULED and a.start > waiting.start)
        keys = {s.key for s in action_states(later, application.clock.now(), True, True)
                if s.enabled}
        assert {ActionKey.OPEN_AS_PATIENT, ActionKey.SHOW_INVITE_EMAIL} <= keys
        window.trigger(ActionKey.OPEN_AS_PATIENT, later)
        qloop.wait_until(lambda: bool(catcher.urls))
        link = catcher.urls[0]
        assert link.startswith(f"{demo.server.url}/join#")
        with chromium() as browser:
            page = browser.new_context(viewport=DESKTOP, locale="en-GB").new_page()
            page.goto(link)
            shown(page, "welcome")
            assert later.patient.name in page.inner_text("#welcome")
            page.get_by_role("button", name="Continue").click()
            shown(page, "device-check")
            page.wait_for_selector('#camera-state[data-state="ok"]')
            page.get_by_role("button", name="Join the waiting room").click()
            shown(page, "waiting")
            qloop.wait_until(lambda: application.waiting_room.arrived_at(later.id) is not None,
                             timeout=15)

        # The invite the server "sent" is a file in the demo's mail folder, shown in the app.
        mail_dir = demo.ready.mail_dir
        qloop.wait_until(lambda: bool(invite_files(mail_dir, later.id)), timeout=20)
        window.trigger(ActionKey.SHOW_INVITE_EMAIL, later)
        dialog = window.findChild(InviteEmailDialog)
        assert isinstance(dialog, InviteEmailDialog)
        html = dialog.body.toHtml()
        assert "Join your appointment" in html and later.patient.name in html
        shoot(dialog, screenshot_dir, "demo-invite-email.png")
        dialog.close()
    finally:
        QDesktopServices.unsetUrlHandler("http")
        quit_event.set()
        if not running.done():
            qloop.run(asyncio.wait({running}, timeout=30))
        demo.shutdown()
    # Quitting ended the server and the simulated patients.
    for process in (server, patients):
        assert process is not None and process.poll() is not None
        assert gone(process.pid)



def test_quitting_while_the_server_starts_ends_it(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop
) -> None:
    settings = QSettings(str(tmp_path / "demo.ini"), QSettings.Format.IniFormat)
    quit_event = asyncio.Event()
    demo = DemoStartup(AppConfig(tmp_path / "data", True, settings), quit_event)
    running = asyncio.ensure_future(demo.run(), loop=qloop.loop)
    try:
        qloop.wait_until(lambda: demo.application is not None, timeout=15)
        server = demo.server.process
        assert server is not None
        quit_event.set()  # the window closed before the server answered
        qloop.run(asyncio.wait({running}, timeout=10))
        assert running.done() and running.exception() is None
        assert demo.ready is None and demo.patients.process is None  # nobody signed in
    finally:
        quit_event.set()
        demo.shutdown()
    assert server.poll() is not None and gone(server.pid)
