"""A workstation without a keychain (no Secret Service): signing in works, the user is told in
words that the session is not kept, and the next start remembers the server address."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends.fail import Keyring as NoKeyring
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.application import NO_KEYCHAIN, AppConfig
from app.services.account_service import AccountService
from app.startup import Startup
from tests.server.server_process import LiveServer
from tests.sync.live_server import PASSWORD
from tests.sync.qt_loop import QtLoop, qt_loop


@pytest.fixture
def qloop(qapp: object) -> Iterator[QtLoop]:
    with qt_loop(qapp) as loop:
        yield loop


@pytest.fixture
def no_keychain() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    yield
    keyring.set_keyring(previous)


def _start(settings: QSettings, tmp_path: Path, qloop: QtLoop) -> tuple[
        Startup, asyncio.Event, "asyncio.Future[None]"]:
    quit_event = asyncio.Event()
    startup = Startup(AppConfig(tmp_path / "data", False, settings), quit_event)
    running = asyncio.ensure_future(startup.run(), loop=qloop.loop)
    qloop.wait_until(lambda: startup.dialog is not None and startup.dialog.isVisible())
    return startup, quit_event, running


def test_without_a_keychain_the_user_is_told_and_the_server_is_remembered(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, no_keychain: None,
    screenshot_dir: Path | None,
) -> None:
    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    qapp.setQuitOnLastWindowClosed(False)
    try:
        startup, quit_event, running = _start(settings, tmp_path, qloop)
        dialog = startup.dialog
        assert dialog is not None
        assert dialog.server.text() == ""  # first start: nothing known yet
        dialog.server.setText(live.url)
        dialog.username.setText("clerk")
        dialog.password.setText(PASSWORD)
        dialog.submit()
        qloop.wait_until(lambda: startup.application is not None
                         and startup.application.window.isVisible())
        application = startup.application
        assert application is not None
        banner = application.window.banner
        qloop.wait_until(banner.isVisible)
        assert "cannot keep you signed in" in banner.label.text()
        assert "asked for your password again" in banner.label.text()
        assert banner.accessibleDescription().endswith(NO_KEYCHAIN)
        if screenshot_dir is not None:
            application.window.grab().save(str(screenshot_dir / "no-keychain-warning.png"))
        quit_event.set()
        qloop.run(asyncio.wait_for(running, 10))
        startup.shutdown()

        # The next start: no session to resume, but the address (and the name) are there.
        assert AccountService(settings).remembered() is None
        again, quit_again, running_again = _start(settings, tmp_path, qloop)
        second = again.dialog
        assert second is not None
        assert second.server.text() == live.url
        assert second.username.text() == "clerk"
        second.reject()
        qloop.run(asyncio.wait_for(running_again, 10))
    finally:
        qapp.setQuitOnLastWindowClosed(True)
