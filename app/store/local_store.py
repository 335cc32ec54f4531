"""The store's front door: every read and write as a job on the store worker, returning a Future.

Callers on the GUI thread never wait on these futures; they attach a callback (the Qt adapter in
app/services turns completions into signals). Listeners hear of every appointment written.
"""

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from sqlmodel import Session

from app.domain.clock import Clock
from app.domain.drafts import AppointmentDraft
from app.domain.enums import AppointmentStatus, Role
from app.domain.records import Appointment, Location, Patient, StaffMember
from app.store import appointments, directory, patients
from app.store.database import open_engine
from app.store.worker import StoreWorker

AppointmentListener = Callable[[Appointment], None]
T = TypeVar("T")


class LocalStore:
    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._worker = StoreWorker(open_engine(path))
        self._listeners: list[AppointmentListener] = []
        self._lock = threading.Lock()

    # --- listeners -------------------------------------------------------------------------
    def add_listener(self, listener: AppointmentListener) -> None:
        """Call `listener(appointment)` (on the store thread) after each appointment write."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: AppointmentListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _written(self, appointment: Appointment) -> Appointment:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(appointment)
        return appointment

    # --- reads -----------------------------------------------------------------------------
    def appointments_between(self, start: datetime, end: datetime) -> "Future[list[Appointment]]":
        return self._worker.submit(lambda s: appointments.appointments_between(s, start, end))

    def get_appointment(self, appointment_id: UUID) -> "Future[Appointment]":
        return self._worker.submit(lambda s: appointments.get_appointment(s, appointment_id))

    def staff(self, role: Role | None = None) -> "Future[list[StaffMember]]":
        return self._worker.submit(lambda s: directory.list_staff(s, role))

    def locations(self) -> "Future[list[Location]]":
        return self._worker.submit(directory.list_locations)

    def search_patients(self, text: str, limit: int = 50) -> "Future[list[Patient]]":
        return self._worker.submit(lambda s: patients.search_patients(s, text, limit))

    # --- writes ----------------------------------------------------------------------------
    def save_appointment(self, draft: AppointmentDraft) -> "Future[Appointment]":
        def job(session: Session) -> Appointment:
            return appointments.save_appointment(session, draft, self.clock.now())

        return self._write(job)

    def set_status(
        self, appointment_id: UUID, status: AppointmentStatus, reason: str = ""
    ) -> "Future[Appointment]":
        def job(session: Session) -> Appointment:
            return appointments.set_status(
                session, appointment_id, status, self.clock.now(), reason
            )

        return self._write(job)

    def run(self, job: Callable[[Session], T]) -> "Future[T]":
        """Run any job on the store worker (seeding the demo, benchmarks)."""
        return self._worker.submit(job)

    def _write(self, job: Callable[[Session], Appointment]) -> "Future[Appointment]":
        done: Future[Appointment] = Future()

        def finished(inner: "Future[Appointment]") -> None:
            error = inner.exception()
            if error is not None:
                done.set_exception(error)
                return
            # Listeners hear only of committed writes: the worker commits before this runs.
            done.set_result(self._written(inner.result()))

        self._worker.submit(job).add_done_callback(finished)
        return done

    def close(self) -> None:
        self._worker.close()
