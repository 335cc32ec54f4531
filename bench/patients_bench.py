"""Benchmark of the Patients view's search with 50,000 patients in the local store.

Prints, per typed query, the time of each keystroke's search: from the key to the result
rows in the view (the store's search on its worker, the answer back on the GUI thread, the
model reset, the repaint), and the store's part alone; first, the one-off build of the
in-memory index (app/store/patient_index.py) after the store was written, and the first search
after a clerk corrected one patient (the index sets that line aside), median of 10.
Target (issue 15): <= 50 ms per keystroke across 50,000 patients.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/patients_bench.py [--patients N]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEventLoop, QLocale
from PySide6.QtWidgets import QApplication
from sqlalchemy import insert
from sqlmodel import Session

from app.services.message_bridge import MessageBridge
from app.services.patient_service import SEARCH_LIMIT, PatientService
from app.store.local_store import LocalStore
from app.store.tables import PatientRow
from app.ui.patients.patients_window import PatientsWindow
from app.views.date_text import typed_date
from shared.clock import FixedClock
from shared.drafts import PatientDraft

FIRST = ["Ada", "Alan", "Grace", "Mary", "Florence", "Edward", "Rosalind", "Joseph", "Ngozi",
         "Priya", "Wei", "Olu", "Siobhan", "Tomasz", "Fatima", "Kwame", "Ingrid", "Mateo"]
LAST = ["Lovelace", "Turing", "Hopper", "Seacole", "Nightingale", "Jenner", "Franklin",
        "Lister", "Okafor", "Patel", "Zhang", "Adeyemi", "Murphy", "Nowak", "Khan", "Mensah",
        "Larsen", "Garcia"]
#: What a clerk types, one key at a time: a name, an MRN, a birth date, a phone, an email.
QUERIES = ["lovelace", "MRN012345", "14/03/1950", "020 7946 0123", "ada.lovelace12@"]


def seed(store: LocalStore, count: int) -> None:
    rng = random.Random(15)
    rows = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(80 * 365))
        rows.append({
            "id": uuid.uuid4(), "name": f"{first} {last}", "mrn": f"MRN{n:06d}",
            "email": f"{first}.{last}{n}@example.org".lower(),
            "phone": f"+44 20 7946 {n % 10_000:04d}", "date_of_birth": born,
        })

    def job(session: Session) -> None:
        session.execute(insert(PatientRow), rows)

    store.run(job).result()


def keystroke_times(window: PatientsWindow, app: QApplication, query: str) -> list[float]:
    times = []
    window.search_edit.clear()
    wait = QEventLoop.ProcessEventsFlag.WaitForMoreEvents
    while window._searching:
        app.processEvents(wait)
    for end in range(1, len(query) + 1):
        started = time.perf_counter()
        window.search_edit.setText(query[:end])
        while window._searching:
            app.processEvents(wait)
        app.processEvents()  # the view's repaint of the new rows
        times.append((time.perf_counter() - started) * 1000)
    return times


def store_times(store: LocalStore, query: str) -> list[float]:
    """The store's part alone: each prefix's search on the worker, waited for here."""
    times = []
    for end in range(1, len(query) + 1):
        text = query[:end]
        started = time.perf_counter()
        store.search_patients(text, SEARCH_LIMIT, typed_date(text)).result()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=50_000)
    args = parser.parse_args()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    app = QApplication(sys.argv)
    QCoreApplication.setApplicationName("clinic-desk-bench")
    with tempfile.TemporaryDirectory() as folder:
        store = LocalStore(Path(folder) / "bench.sqlite3",
                           FixedClock(datetime(2026, 11, 26, 8, tzinfo=UTC)))
        started = time.perf_counter()
        seed(store, args.patients)
        print(f"seeded {args.patients} patients in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        store.search_patients("", SEARCH_LIMIT).result()
        print(f"index built (first search after a write) in "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
        corrected = []
        for number in range(10):
            [someone] = store.search_patients(f"MRN{1000 + number * 37:06d}", 1).result()
            store.save_patient(PatientDraft(f"{someone.name} Jr", someone.date_of_birth,
                                            someone.mrn, someone.email, someone.phone,
                                            id=someone.id)).result()
            started = time.perf_counter()
            store.search_patients("", SEARCH_LIMIT).result()
            corrected.append((time.perf_counter() - started) * 1000)
        print(f"first search after one patient was corrected: median "
              f"{statistics.median(corrected):.1f} ms (set aside, not rebuilt)")
        service = PatientService(store, MessageBridge())
        window = PatientsWindow(service, lambda _patient: None)
        window.show()
        all_times = []
        for query in QUERIES:
            times = keystroke_times(window, app, query)
            all_times.extend(times)
            alone = store_times(store, query)
            print(f"{query!r:22} per keystroke: median {statistics.median(times):5.1f} ms, "
                  f"worst {max(times):5.1f} ms; {window.model.rowCount()} rows shown "
                  f"(the store's search alone: median {statistics.median(alone):4.1f} ms)")
        print(f"all keystrokes: median {statistics.median(all_times):.1f} ms, "
              f"p90 {statistics.quantiles(all_times, n=10)[-1]:.1f} ms, "
              f"worst {max(all_times):.1f} ms (target <= 50 ms)")
        window.close()
        service.close()
        store.close()


if __name__ == "__main__":
    main()
