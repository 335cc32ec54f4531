"""Benchmark of the Clinic Schedule with 50,000 appointments in the local store.

Prints: seeding time; day and week view shown after the store is open; a filter keystroke;
one status flip (store write -> row repainted); steady memory. Targets (issue 2): day view
<= 300 ms, filter keystroke <= 30 ms, steady memory <= 250 MB.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/schedule_bench.py [--appointments N]
"""

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import insert
from sqlmodel import Session

from app.domain.clock import FixedClock
from app.domain.enums import AppointmentKind, AppointmentStatus, Role
from app.domain.events import PatientArrived
from app.domain.records import Location, StaffMember
from app.services.message_bridge import MessageBridge
from app.services.schedule_service import ScheduleService
from app.services.waiting_room_service import WaitingRoomService
from app.store import directory
from app.store.local_store import LocalStore
from app.store.tables import AppointmentRow, PatientRow
from app.ui.schedule.appointment_controller import AppointmentController
from app.ui.schedule.date_navigator import Span
from app.ui.schedule.main_window import MainWindow
from app.views.schedule_model import ScheduleModel

DAYS = 100
CLINICIANS = 25
PATIENTS = 10_000


def rss_mb() -> float:
    """Resident memory now (Linux /proc), falling back to the peak."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(store: LocalStore, count: int, first_day: datetime) -> None:
    rng = random.Random(50_000)
    staff = [
        StaffMember(uuid.uuid4(), f"Dr Bench {n:02d}", Role.CLINICIAN) for n in range(CLINICIANS)
    ]
    location = Location(uuid.uuid4(), "Bench Hospital", "1 Test Road")
    patients = [
        {"id": uuid.uuid4(), "name": f"Patient {n:05d} {rng.choice('ABCDEFGH')}ull",
         "mrn": f"MRN{n:06d}", "email": f"p{n}@example.org", "phone": "", "date_of_birth": None}
        for n in range(PATIENTS)
    ]
    kinds = list(AppointmentKind)
    per_day = count // DAYS
    rows = []
    for n in range(count):
        day, slot = divmod(n, per_day)
        clinician, position = divmod(slot, max(1, per_day // CLINICIANS))
        start = first_day + timedelta(days=day % DAYS, hours=8, minutes=20 * position)
        rows.append({
            "id": uuid.uuid4(), "patient_id": patients[rng.randrange(PATIENTS)]["id"],
            "clinician_id": staff[clinician % CLINICIANS].id, "location_id": location.id,
            "start": start, "duration_minutes": 20, "kind": rng.choice(kinds).value,
            "status": AppointmentStatus.SCHEDULED.value, "notes": "", "cancel_reason": "",
            "version": 1, "updated_at": first_day,
        })

    def job(session: Session) -> None:
        for member in staff:
            directory.add_staff(session, member)
        directory.add_location(session, location)
        session.execute(insert(PatientRow), patients)
        session.execute(insert(AppointmentRow), rows)

    store.run(job).result()


def wait_for(app: QCoreApplication, done: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not done():
        app.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("the schedule did not answer in time")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=50_000)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="clinic-desk-bench-"))
    first_day = datetime(2026, 9, 1, tzinfo=UTC)
    busy_day = first_day + timedelta(days=50)
    clock = FixedClock(busy_day + timedelta(hours=7))

    started = time.perf_counter()
    seeding_store = LocalStore(folder / "bench.sqlite3", clock)
    seed(seeding_store, args.appointments, first_day)
    seeding_store.close()
    print(f"seeded {args.appointments} appointments in {time.perf_counter() - started:.1f} s")

    # --- day view shown after the store is open -------------------------------------------
    opened = time.perf_counter()
    store = LocalStore(folder / "bench.sqlite3", clock)
    open_ms = (time.perf_counter() - opened) * 1000
    bridge = MessageBridge()
    schedule = ScheduleService(store, bridge)
    waiting_room = WaitingRoomService()
    model = ScheduleModel(clock, waiting_room)
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(schedule, model, bridge, settings, "bench",
                        AppointmentController(schedule, bridge))
    schedule.appointmentChanged.connect(model.upsert)
    window.navigator.set_date(busy_day.astimezone().date())
    window.show()
    app.processEvents()

    shown = time.perf_counter()
    window.start()
    wait_for(app, lambda: model.rowCount() > 0)
    window.view.viewport().repaint()
    day_ms = (time.perf_counter() - shown) * 1000
    day_rows = model.rowCount()
    print(f"store opened in {open_ms:.0f} ms; day view ({day_rows} rows) shown in {day_ms:.0f} ms"
          " (target <= 300 ms)")

    week_start = time.perf_counter()
    window.navigator.set_span(Span.WEEK)
    wait_for(app, lambda: model.rowCount() > day_rows)
    window.view.viewport().repaint()
    week_ms = (time.perf_counter() - week_start) * 1000
    print(f"week view ({model.rowCount()} rows) shown in {week_ms:.0f} ms")

    # --- filter keystrokes -----------------------------------------------------------------
    timings = []
    for text in ["P", "Pa", "Pat", "Patient 0", "Patient 01", "Patient 012", "Patient 01", ""]:
        begin = time.perf_counter()
        window.filter_bar.text.setText(text)
        window.view.viewport().repaint()
        app.processEvents()
        timings.append((time.perf_counter() - begin) * 1000)
    print("  per keystroke:", " ".join(f"{t:.0f}" for t in timings))
    print(f"filter keystroke on the week: median {statistics.median(timings):.1f} ms, "
          f"max {max(timings):.1f} ms (target <= 30 ms)")

    # --- status flips ----------------------------------------------------------------------
    window.navigator.set_span(Span.DAY)
    wait_for(app, lambda: model.rowCount() == day_rows)
    target = model.appointment_at(day_rows // 2)
    begin = time.perf_counter()
    waiting_room.apply(PatientArrived(target.id, clock.now()))
    window.view.viewport().repaint()
    arrival_ms = (time.perf_counter() - begin) * 1000
    begin = time.perf_counter()
    schedule.set_status(target.id, AppointmentStatus.TAKEN)
    wait_for(app, lambda: model.appointment_at(day_rows // 2).status is AppointmentStatus.TAKEN)
    window.view.viewport().repaint()
    flip_ms = (time.perf_counter() - begin) * 1000
    ticks = []
    for _ in range(20):
        clock.advance(1)
        begin = time.perf_counter()
        model.tick()
        app.processEvents()
        ticks.append((time.perf_counter() - begin) * 1000)
    print(f"arrival repaint {arrival_ms:.1f} ms; status flip (store write -> row repainted) "
          f"{flip_ms:.1f} ms; clock tick median {statistics.median(ticks):.2f} ms")

    for _ in range(50):
        app.processEvents()
    print(f"steady memory (RSS) {rss_mb():.0f} MB (target <= 250 MB)")
    window.close()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
