"""Start-up beside a bare window (issue 17): `clinic-desk --demo` and a signed-in start, each
against a bare PySide6 table window of the same size, started alternately in one run.

Each start is timed from the exec to the window shown with its first rows laid out: the log's
"schedule shown" line for Clinic Desk, a "shown" line on stdout for bench/bare_window.py. Beside
the wall time, the process's own CPU time up to that moment (/proc/PID/stat): on a shared, busy
machine the wall time swings with the neighbours, the CPU time much less.
Every figure is the median of --runs warm starts (one unmeasured start first per user: it creates
the store). The signed-in start resumes a remembered session (account in the settings, refresh
token in a file keyring made for the bench) against a loopback port where no server answers: the
window's path is the same as online, the sync starts after it is shown. Target: <= 3x the bare
window.

    .venv/bin/python bench/start_bench.py [--runs 5]
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = Path(sys.executable).with_name("clinic-desk")
BARE = ROOT / "bench" / "bare_window.py"
SHOWN = re.compile(r"clinicdesk\.ui: schedule shown: (\d+) rows")
TIMEOUT = 60.0
POLL_SECONDS = 0.003
TARGET_RATIO = 3.0


def user_env(folder: Path) -> tuple[dict[str, str], Path]:
    """A fresh user (HOME, XDG folders), offscreen; and where its log will be."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_DESK_", "XDG_"))}
    env |= {"HOME": str(folder / "home"), "XDG_STATE_HOME": str(folder / "state"),
            "XDG_CONFIG_HOME": str(folder / "config"), "XDG_DATA_HOME": str(folder / "data"),
            "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
            "PYTHON_KEYRING_BACKEND": "tests.sync.memory_keyring.FileKeyring",
            "CLINIC_DESK_TEST_KEYRING": str(folder / "keyring.json")}
    return env, folder / "state" / "ClinicDesk" / "log" / "clinic-desk.log"


def stop(process: "subprocess.Popen[bytes]") -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Start:
    def __init__(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = wall, cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_bare() -> Start:
    """From the exec to the bare window shown."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, str(BARE)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != b"shown":
            raise RuntimeError("the bare window did not show")
        return Start(time.monotonic() - began, cpu_seconds(process.pid))
    finally:
        stop(process)


def time_app(folder: Path, *arguments: str) -> Start:
    """From the exec of clinic-desk to its schedule shown."""
    env, log = user_env(folder)
    offset = log.stat().st_size if log.exists() else 0
    command = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "app.main"]
    began = time.monotonic()
    process = subprocess.Popen([*command, *arguments], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while True:
            if time.monotonic() - began > TIMEOUT or process.poll() is not None:
                raise RuntimeError(f"clinic-desk {' '.join(arguments)} did not start; see {log}")
            text = log.read_text(errors="replace")[offset:] if log.exists() else ""
            if SHOWN.search(text):
                return Start(time.monotonic() - began, cpu_seconds(process.pid))
            time.sleep(POLL_SECONDS)
    finally:
        stop(process)


def remember_session(folder: Path) -> None:
    """An account signed in before, as the settings and the keychain keep it."""
    port = _closed_port()
    server = f"http://127.0.0.1:{port}"
    user_id = uuid.uuid4()
    config = folder / "config" / "ClinicDesk"
    config.mkdir(parents=True, exist_ok=True)
    (config / "ClinicDesk.conf").write_text(
        "[account]\n"
        f"server_url={server}\nusername=bench\nuser_id={user_id}\n"
        "full_name=Dr Bench\nrole=clinician\n")
    (folder / "keyring.json").write_text(
        json.dumps({f"Clinic Desk|bench@{server}": "a refresh token"}))


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clinic-desk-start-") as temp:
        demo_user, signed_user = Path(temp) / "demo", Path(temp) / "signed-in"
        remember_session(signed_user)
        # First starts make the stores (and the demo's day): not measured.
        time_bare()
        time_app(demo_user, "--demo")
        time_app(signed_user)
        bare: list[Start] = []
        demo: list[Start] = []
        signed: list[Start] = []
        for _ in range(args.runs):
            bare.append(time_bare())
            demo.append(time_app(demo_user, "--demo"))
            signed.append(time_app(signed_user))
    base_wall = statistics.median(s.wall for s in bare)
    base_cpu = statistics.median(s.cpu for s in bare)
    print(f"bare PySide6 table window: median {base_wall * 1000:.0f} ms wall "
          f"({' '.join(f'{s.wall * 1000:.0f}' for s in bare)}), {base_cpu * 1000:.0f} ms CPU")
    for name, starts in (("clinic-desk --demo", demo), ("clinic-desk signed in", signed)):
        wall = statistics.median(s.wall for s in starts)
        cpu = statistics.median(s.cpu for s in starts)
        print(f"{name}: median {wall * 1000:.0f} ms wall "
              f"({' '.join(f'{s.wall * 1000:.0f}' for s in starts)}), "
              f"{wall / base_wall:.1f}x the bare window; {cpu * 1000:.0f} ms CPU, "
              f"{cpu / base_cpu:.1f}x (target <= {TARGET_RATIO:.0f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
