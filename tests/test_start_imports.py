"""The schedule's first window loads what it shows and nothing more: WebRTC, media, the server
and the HTTP stack load behind it (issue 17; bench/start_bench.py measures what it saves)."""

import json
import subprocess
import sys
import uuid
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings
from pytestqt.qtbot import QtBot

from app.application import AppConfig, Application, SignedIn
from app.services.account_service import Account, AccountService
from app.sync.api_client import SignedInUser
from app.sync.token_store import MemoryTokenStore
from shared.enums import Role

#: Packages the first window must not wait for (each costs tens to hundreds of ms to import).
NOT_BEFORE_THE_WINDOW = ("aiortc", "av", "aioice", "pylibsrtp", "cryptography", "OpenSSL",
                         "server", "fastapi", "uvicorn", "httpx", "httpcore", "argon2",
                         "app.services.call_service", "app.services.group_call_service",
                         "app.ui.call", "app.ui.group_call")


def _loaded(names: list[str], package: str) -> list[str]:
    return [name for name in names if name == package or name.startswith(package + ".")]


def test_the_first_window_imports_no_calls_media_server_or_http(tmp_path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-m", "tests.start_imports_probe", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )
    assert probe.returncode == 0, probe.stderr
    modules = json.loads(probe.stdout)
    early = {package: _loaded(modules["at_first_day"], package)
             for package in NOT_BEFORE_THE_WINDOW}
    assert {package: names for package, names in early.items() if names} == {}
    # The probe is not blind: the same names are there once the calls have loaded.
    later = modules["after"]
    for package in ("aiortc", "av", "app.services.call_service", "app.ui.call"):
        assert _loaded(later, package), package


def _signed_in(tmp_path: Path) -> Application:
    """A signed-in window whose server nobody answers at (the first window needs none)."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    accounts = AccountService(settings, MemoryTokenStore())
    account = Account("http://127.0.0.1:9", SignedInUser(uuid.uuid4(), "ng", "Dr Ng",
                                                         Role.CLINICIAN))
    return Application(AppConfig(tmp_path, False, settings),
                       signed_in=SignedIn(account, accounts.client(account), accounts))


def test_the_calls_attach_once_the_first_day_is_shown(qtbot: QtBot, tmp_path: Path) -> None:
    application = _signed_in(tmp_path)
    window = application.window
    try:
        assert application.calls is None and window.calls is None
        with qtbot.waitSignal(window.firstRangeShown):
            application.start(sync=False)
        qtbot.waitUntil(lambda: window.calls is not None)
        assert window.call_service is application.calls is not None
        assert application.group_calls is not None
    finally:
        application.shutdown()


def test_closed_before_the_first_day_loads_no_calls(qtbot: QtBot, tmp_path: Path) -> None:
    application = _signed_in(tmp_path)
    # Closed in the same turn as the first day shows: the calls' build is one timer away.
    application.window.firstRangeShown.connect(application.shutdown)
    with qtbot.waitSignal(application.window.firstRangeShown):
        application.start(sync=False)
    for _ in range(5):
        QCoreApplication.processEvents()  # the zero timer's turns
    assert application.calls is None and application.group_calls is None
