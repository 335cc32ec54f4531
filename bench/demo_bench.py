"""Benchmark of `clinic-desk --demo`: the cold start, and calling a simulated patient.

1. Start: `clinic-desk --demo` as a new user (fresh HOME and XDG folders, offscreen), timed
   from the exec to the log's "schedule shown" (the window's first day is in the model and laid
   out; issue: <= 2 s) and to "demo server ready" (the embedded server answers and the desktop
   signed in). A second start on the same folders (the day kept) is timed too.
2. Calls: the demo in this process (DemoStartup, offscreen); ten more video appointments put
   in the demo server's database, each with a simulated patient waiting (the product's
   patient process); click Call on each green row -> the patient's first frame painted, p50/p95.

    .venv/bin/python bench/demo_bench.py [--starts 2] [--calls 10]
"""

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sqlmodel import Session

from app.application import AppConfig
from app.demo.demo_processes import SimulatedPatients
from app.demo.demo_startup import DemoStartup
from app.media.call_state import CallState
from app.sync.sync_status import Connection
from app.ui.call.call_controller import CallController
from app.views.schedule_columns import Column, Role
from server.database import create_db_engine
from server.embedded import DATABASE
from server.models.appointment import Appointment
from server.services import changes
from shared.demo_people import DEMO_CLINICIAN_ID, DEMO_NAMESPACE, DemoArrival
from shared.enums import AppointmentKind, AppointmentStatus, DisplayState

ENTRY = Path(sys.executable).with_name("clinic-desk")
SHOWN = re.compile(r"clinicdesk\.ui: schedule shown: (\d+) rows")
READY = re.compile(r"clinicdesk\.demo: demo server ready")
TIMEOUT = 120.0


def _user(folder: Path) -> tuple[dict[str, str], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_DESK_", "XDG_"))}
    env |= {"HOME": str(folder / "home"), "XDG_STATE_HOME": str(folder / "state"),
            "XDG_CONFIG_HOME": str(folder / "config"), "XDG_DATA_HOME": str(folder / "data"),
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    return env, folder / "state" / "ClinicDesk" / "log" / "clinic-desk.log"


def time_start(folder: Path) -> tuple[float, float, int]:
    """Seconds from the exec to the schedule shown and to the server ready; rows shown."""
    env, log = _user(folder)
    offset = log.stat().st_size if log.exists() else 0
    command = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "app.main"]
    began = time.monotonic()
    app = subprocess.Popen([*command, "--demo"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    shown = ready = None
    rows = 0
    try:
        while shown is None or ready is None:
            if time.monotonic() - began > TIMEOUT or app.poll() is not None:
                raise RuntimeError("the demo did not start; see its log: " + str(log))
            text = log.read_text(errors="replace")[offset:] if log.exists() else ""
            match = SHOWN.search(text)
            if shown is None and match:
                shown, rows = time.monotonic() - began, int(match.group(1))
            if ready is None and READY.search(text):
                ready = time.monotonic() - began
            time.sleep(0.003)
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(60)
    return shown, ready, rows


def _book_waiting(folder: Path, now: datetime, count: int) -> list[uuid.UUID]:
    """`count` video appointments that have just started, written straight into the demo
    server's database (side by side: the API would refuse them as double bookings)."""
    engine = create_db_engine(f"sqlite:///{folder / 'demo' / DATABASE}")
    ids = []
    with Session(engine) as session:
        for number in range(count):
            appointment = Appointment(
                patient_id=uuid.uuid5(DEMO_NAMESPACE, f"patient-{40 + number}"),
                clinician_id=DEMO_CLINICIAN_ID,
                location_id=uuid.uuid5(DEMO_NAMESPACE, "hospital"),
                start=now - timedelta(minutes=1), duration_minutes=15,
                kind=AppointmentKind.VIDEO, status=AppointmentStatus.SCHEDULED,
                notes="bench", created_by_id=DEMO_CLINICIAN_ID, created_at=now, updated_at=now)
            session.add(appointment)
            session.flush()
            changes.record(session, "appointment", appointment.id, [DEMO_CLINICIAN_ID], now)
            ids.append(appointment.id)
        session.commit()
    engine.dispose()
    return ids


async def _links(url: str, password: str, ids: list[uuid.UUID]) -> list[DemoArrival]:
    """A patient link for each, through the server's staff API."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        login = await http.post("/auth/login", json={"username": "ng", "password": password})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        arrivals = []
        for number, appointment_id in enumerate(ids):
            link = await http.post(f"/appointments/{appointment_id}/patient-link",
                                   json={"recipient": 0}, headers=headers)
            link.raise_for_status()
            arrivals.append(DemoArrival(appointment_id, f"Bench patient {number}",
                                        link.json()["url"], 0.0))
        return arrivals


async def time_calls(folder: Path, count: int, quit_event: asyncio.Event) -> list[float]:
    settings = QSettings(str(folder / "bench.ini"), QSettings.Format.IniFormat)
    demo = DemoStartup(AppConfig(folder / "data", True, settings), quit_event)
    running = asyncio.ensure_future(demo.run())
    patients = SimulatedPatients(folder / "bench-patients")

    async def until(condition: object, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            if time.monotonic() > deadline or running.done():
                raise RuntimeError("the demo did not get there in time")
            await asyncio.sleep(0.002)

    try:
        await until(lambda: demo.ready is not None and demo.application is not None
                    and demo.application.sync is not None
                    and demo.application.sync.status.connection is Connection.ONLINE)
        assert demo.ready is not None and demo.application is not None
        app = demo.application
        ids = _book_waiting(folder / "data", datetime.now(UTC), count)
        arrivals = await _links(demo.server.url, demo.ready.password, ids)
        assert app.sync is not None
        app.sync.sync_now()
        patients.start(demo.server.url, arrivals)
        model = app.model

        def state(appointment_id: uuid.UUID) -> object:
            row = model.row_of(appointment_id)
            return None if row is None else model.index(row, Column.STATUS).data(Role.STATE)

        await until(lambda: all(state(a.appointment_id) == DisplayState.WAITING
                                for a in arrivals))
        await until(lambda: app.window.calls is not None)  # loaded behind the first day
        controller = app.window.calls
        assert isinstance(controller, CallController) and app.calls is not None
        calls = app.calls
        times = []
        for arrival in arrivals:
            row = model.row_of(arrival.appointment_id)
            assert row is not None
            appointment = model.appointment_at(row)
            began = time.monotonic()
            shown_before = calls.frames_shown
            if controller.start(appointment) is None:
                raise RuntimeError(f"the call did not start: {app.window.banner.label.text()}")
            await until(lambda before=shown_before: calls.frames_shown > before, 30)
            times.append(time.monotonic() - began)
            assert controller.call_window is not None
            controller.call_window.hang_up_button.click()
            await until(lambda: calls.state is CallState.ENDED and not calls.in_call, 30)
            controller.call_window.close()
            await asyncio.sleep(0.2)
        return times
    finally:
        quit_event.set()
        await asyncio.wait({running}, timeout=60)
        demo.shutdown()
        patients.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=2)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as tmp:
        folder = Path(tmp)
        for number in range(args.starts):
            shown, ready, rows = time_start(folder / "user")
            label = "cold start (new user)" if number == 0 else "start again (day kept)"
            sys.stdout.write(f"{label}: schedule shown {shown:.2f} s ({rows} rows), "
                             f"demo server ready {ready:.2f} s\n")
        qt_app = QApplication(sys.argv[:1])
        loop = qasync.QEventLoop(qt_app)
        asyncio.set_event_loop(loop)
        with loop:
            times = loop.run_until_complete(time_calls(folder / "calls", args.calls,
                                                       asyncio.Event()))
        ms = sorted(t * 1000 for t in times)
        p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
        sys.stdout.write(f"Call on a simulated waiting patient -> first frame painted: "
                         f"p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, "
                         f"max {ms[-1]:.0f} ms over {len(ms)} calls\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
