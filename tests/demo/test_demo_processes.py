"""The demo's child processes end with the app, also when it is SIGKILLed: no orphans."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.main import parse_args
from tests.demo.processes import children, gone

ENTRY = Path(sys.executable).with_name("clinic-desk")
START_TIMEOUT = 90.0


def _start_demo(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_DESK_", "XDG_"))}
    env |= {
        "HOME": str(tmp_path / "home"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "QT_QPA_PLATFORM": "offscreen",
        # No keychain at all: the demo must not need one.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    command = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "app.main"]
    app = subprocess.Popen([*command, "--demo"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    return app, tmp_path / "state" / "ClinicDesk" / "log" / "clinic-desk.log"


def _wait_for_children(app: subprocess.Popen[bytes], log: Path) -> list[int]:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert app.poll() is None, "the demo exited"
        text = log.read_text(errors="replace") if log.exists() else ""
        kids = children(app.pid)
        if "demo server ready" in text and len(kids) == 2:
            return kids
        assert time.monotonic() < deadline, f"no server and patients in time: {text[-2000:]}"
        time.sleep(0.1)


def _wait_gone(pids: list[int], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {[p for p in pids if not gone(p)]}"
        time.sleep(0.05)


def test_a_killed_demo_leaves_no_server_or_patients_behind(tmp_path: Path) -> None:
    app, log = _start_demo(tmp_path)
    try:
        kids = _wait_for_children(app, log)
        app.send_signal(signal.SIGKILL)  # as a crash: nothing of the app's own shutdown runs
        app.wait(10)
        _wait_gone(kids)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


def test_a_terminated_demo_ends_its_children_on_the_way_out(tmp_path: Path) -> None:
    app, log = _start_demo(tmp_path)
    try:
        kids = _wait_for_children(app, log)
        app.send_signal(signal.SIGTERM)  # logging out, `kill`: the window closes normally
        assert app.wait(30) == 0
        # The app waited for them: they are gone by the time it has exited.
        assert all(gone(pid) for pid in kids)
        assert "demo stopped: server and patients ended" in log.read_text()
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


def test_reset_without_demo_is_refused_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--reset"])
    assert exited.value.code == 2
    assert "use it with --demo" in capsys.readouterr().err
    assert parse_args(["--demo", "--reset"]).reset is True
