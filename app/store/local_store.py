"""The store's front door: every read and write as a job on the store worker, returning a Future.

Callers on the GUI thread never wait on these futures; they attach a callback (the Qt adapter in
app/services turns completions into signals). Listeners hear of every appointment written.
"""

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import date, datetime
from pathlib import Path
from typing import Protocol, TypeVar
from uuid import UUID

from sqlalchemy import event
from sqlmodel import Session

from app.store import (
    appointments,
    directory,
    outbox,
    patient_file,
    patient_lists,
    patients,
    phone_attempts,
    pull_apply,
    sync_meta,
    tasks,
)
from app.store.database import open_engine
from app.store.outbox import Resolved
from app.store.patient_index import PatientIndex
from app.store.pull_apply import Applied
from app.store.sync_facts import (
    RejectedRecord,
    SyncFacts,
    counts,
    discard_change,
    rejected_records,
    sync_facts,
)
from app.store.tables import PatientRow
from app.store.worker import StoreWorker
from shared.clock import Clock
from shared.drafts import AppointmentDraft, PatientDraft, PatientListDraft, TaskDraft
from shared.enums import AppointmentStatus, Role
from shared.records import (
    Appointment,
    ListEntry,
    Location,
    Patient,
    PatientFile,
    PatientList,
    PhoneAttempt,
    StaffMember,
    Task,
)
from shared.sync_protocol import Mutation, MutationResult, PullResponse

AppointmentListener = Callable[[Appointment], None]
#: Hears of records the sync changed or removed: (changed, removed) by entity type.
ChangeListener = Callable[[Applied], None]
T = TypeVar("T")


class _Record(Protocol):
    @property
    def id(self) -> UUID: ...


R = TypeVar("R", bound=_Record)


class LocalStore:
    def __init__(self, path: Path, clock: Clock, local_only: bool = False) -> None:
        """`local_only`: a store no server will ever hear of (the demo): no outbox."""
        self.path = path
        self.clock = clock
        self._worker = StoreWorker(open_engine(path), local_only)
        #: Used on the worker only; marked stale by every job that may change a patient.
        self._patient_index = PatientIndex()
        self._listeners: list[AppointmentListener] = []
        self._change_listeners: list[ChangeListener] = []
        self._write_listeners: list[Callable[[], None]] = []
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

    def add_change_listener(self, listener: ChangeListener) -> None:
        """Call `listener(applied)` (on the store thread) after the sync changed records."""
        with self._lock:
            self._change_listeners.append(listener)

    def remove_change_listener(self, listener: ChangeListener) -> None:
        with self._lock:
            if listener in self._change_listeners:
                self._change_listeners.remove(listener)

    def add_write_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (on the store thread) after every local write: something new is
        in the outbox."""
        with self._lock:
            self._write_listeners.append(listener)

    def remove_write_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if listener in self._write_listeners:
                self._write_listeners.remove(listener)

    def _wrote(self) -> None:
        with self._lock:
            listeners = list(self._write_listeners)
        for listener in listeners:
            listener()

    def _synced(self, applied: Applied) -> Applied:
        with self._lock:
            listeners = list(self._change_listeners)
        if applied.changed or applied.removed:
            for listener in listeners:
                listener(applied)
        return applied

    def _written(self, appointment: Appointment) -> Appointment:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(appointment)
        self._wrote()
        return appointment

    # --- reads -----------------------------------------------------------------------------
    def appointments_between(self, start: datetime, end: datetime) -> "Future[list[Appointment]]":
        return self._worker.submit(lambda s: appointments.appointments_between(s, start, end))

    def get_appointment(self, appointment_id: UUID) -> "Future[Appointment]":
        return self._worker.submit(lambda s: appointments.get_appointment(s, appointment_id))

    def phone_attempts(self, appointment_id: UUID) -> "Future[list[PhoneAttempt]]":
        """The appointment's calls to the patient's phone, newest first."""
        return self._worker.submit(lambda s: phone_attempts.attempts_of(s, appointment_id))

    def staff(self, role: Role | None = None) -> "Future[list[StaffMember]]":
        return self._worker.submit(lambda s: directory.list_staff(s, role))

    def locations(self) -> "Future[list[Location]]":
        return self._worker.submit(directory.list_locations)

    def search_patients(
        self, text: str, limit: int = 50, born: date | None = None
    ) -> "Future[list[Patient]]":
        return self._worker.submit(
            lambda s: self._patient_index.search(s, text, limit, born))

    def patient_file(self, patient_id: UUID) -> "Future[PatientFile]":
        return self._worker.submit(lambda s: patient_file.patient_file(s, patient_id))

    # --- writes ----------------------------------------------------------------------------
    def save_appointment(self, draft: AppointmentDraft) -> "Future[Appointment]":
        def job(session: Session) -> Appointment:
            row = session.get(PatientRow, draft.patient.id) if draft.patient.id else None
            before = patients.patient_from_row(row) if row is not None else None
            saved = appointments.save_appointment(session, draft, self.clock.now())
            if saved.patient != before:
                # Registered or corrected with the booking.
                self._patient_index.mark_changed([saved.patient.id])
            return saved

        return self._write(job)

    def save_patient(self, draft: PatientDraft) -> "Future[Patient]":
        """Correct (or register) a patient; their appointments are heard of as changed."""
        def write(session: Session) -> Patient:
            return patients.save_patient(session, draft, self.clock.now())  # indexed on commit

        return self._record_write("patient", write)

    def patient_lists(self) -> "Future[list[PatientList]]":
        return self._worker.submit(patient_lists.all_lists)

    def list_entries(self, list_id: UUID) -> "Future[list[ListEntry]]":
        return self._worker.submit(
            lambda s: patient_lists.list_entries(s, list_id, self.clock.now()))

    def save_patient_list(self, draft: PatientListDraft) -> "Future[PatientList]":
        """Create, rename or refill a list; heard of as changed, queued for the server."""
        return self._record_write(
            "patient_list", lambda s: patient_lists.save_list(s, draft, self.clock.now()))

    def delete_patient_list(self, list_id: UUID, deleted: bool = True) -> "Future[PatientList]":
        """Delete a list (False: bring it back); heard of as changed, queued for the server."""
        return self._record_write(
            "patient_list",
            lambda s: patient_lists.set_deleted(s, list_id, deleted, self.clock.now()))

    def _record_write(self, entity_type: str, write: Callable[[Session], R]) -> "Future[R]":
        """A write of one record (`write` returns it): once committed, the change listeners
        hear of it as changed, and the write listeners that the outbox has something new."""
        def job(session: Session) -> R:
            saved = write(session)
            applied = Applied()
            applied.add(applied.changed, entity_type, saved.id)
            self._after_commit(session, applied)
            event.listen(session, "after_commit", lambda _s: self._wrote(), once=True)
            return saved

        return self._worker.submit(job)

    def set_status(
        self, appointment_id: UUID, status: AppointmentStatus, reason: str = ""
    ) -> "Future[Appointment]":
        def job(session: Session) -> Appointment:
            return appointments.set_status(
                session, appointment_id, status, self.clock.now(), reason
            )

        return self._write(job)

    # --- sync -------------------------------------------------------------------------------
    def sync_facts(self) -> "Future[SyncFacts]":
        return self._worker.submit(sync_facts)

    def pending_count(self) -> "Future[int]":
        return self._worker.submit(outbox.pending_count)

    def sync_counts(self) -> "Future[tuple[int, int]]":
        """(pending, rejected) in one job: the status bar asks after every sync step."""
        return self._worker.submit(counts)

    def next_batch(self, limit: int) -> "Future[list[Mutation]]":
        """The next mutations to push, frozen as sent (committed before the push goes out)."""
        return self._worker.submit(lambda s: outbox.next_batch(s, limit))

    def resolve(self, results: list[MutationResult]) -> "Future[Resolved]":
        def job(session: Session) -> Resolved:
            resolved = outbox.resolve(session, results)
            applied = Applied()
            for entity_type, ids in resolved.entity_ids.items():
                for entity_id in ids:
                    pull_apply.adopt_server_copy(session, entity_type, entity_id)
                    applied.add(applied.changed, entity_type, entity_id)
            self._after_commit(session, applied)
            return resolved

        return self._worker.submit(job)

    def apply_page(self, page: PullResponse, generation: int) -> "Future[Applied]":
        def job(session: Session) -> Applied:
            applied = pull_apply.apply_page(session, page, generation)
            self._after_commit(session, applied)
            return applied

        return self._worker.submit(job)

    def start_resync(self, scope: str) -> "Future[int]":
        """The user's access changed (or first sync): pull everything again under a new
        generation; returns it. Survives a restart until finish_resync."""
        def job(session: Session) -> int:
            generation = sync_meta.get_int(session, sync_meta.GENERATION) + 1
            sync_meta.put(session, sync_meta.GENERATION, str(generation))
            sync_meta.put(session, sync_meta.CURSOR, "0")
            sync_meta.put(session, sync_meta.SCOPE, scope)
            sync_meta.put(session, sync_meta.RESYNC, "1")
            return generation

        return self._worker.submit(job)

    def finish_resync(self, generation: int) -> "Future[Applied]":
        def job(session: Session) -> Applied:
            applied = pull_apply.sweep_generation(session, generation)
            sync_meta.put(session, sync_meta.RESYNC, "")
            self._after_commit(session, applied)
            return applied

        return self._worker.submit(job)

    def rejected(self) -> "Future[list[RejectedRecord]]":
        return self._worker.submit(rejected_records)

    def discard(self, entity_type: str, entity_id: UUID) -> "Future[Applied]":
        """Give up the user's refused change: back to the server's copy (or gone if none)."""
        def job(session: Session) -> Applied:
            applied = discard_change(session, entity_type, entity_id)
            self._after_commit(session, applied)
            return applied

        return self._worker.submit(job)

    def appointments_in_range_by_ids(
        self, ids: set[UUID], start: datetime, end: datetime
    ) -> "Future[list[Appointment]]":
        return self._worker.submit(
            lambda s: appointments.appointments_in_range_by_ids(s, ids, start, end)
        )

    def replace_directory(
        self, staff: list[StaffMember], locations: list[Location]
    ) -> "Future[None]":
        return self._worker.submit(lambda s: directory.replace_directory(s, staff, locations))

    def _after_commit(self, session: Session, applied: Applied) -> None:
        """Tell the change listeners once the job's transaction has committed. A patient's
        change shows on each of their appointments: those count as changed too."""
        # (A placeholder for an appointment's patient stays out of the search until the
        # patient's own change arrives.)
        self._patient_index.mark_changed(
            applied.changed.get("patient", set()) | applied.removed.get("patient", set()))
        # A call to the phone shows on its appointment's row.
        attempts = applied.changed.get("phone_attempt", set())
        if attempts:
            called = phone_attempts.appointments_of_attempts(session, attempts)
            applied.changed.setdefault("appointment", set()).update(called)
        patients_changed = applied.changed.get("patient", set())
        if patients_changed:
            ids = appointments.appointment_ids_of_patients(session, patients_changed)
            applied.changed.setdefault("appointment", set()).update(ids)
        event.listen(session, "after_commit", lambda _s: self._synced(applied), once=True)

    # --- tasks ------------------------------------------------------------------------------
    def tasks(self) -> "Future[list[Task]]":
        return self._worker.submit(tasks.list_tasks)

    def save_task(self, draft: TaskDraft, creator_id: UUID | None) -> "Future[Task]":
        def job(session: Session) -> Task:
            saved = tasks.save_task(session, draft, self.clock.now(), creator_id)
            applied = Applied()
            applied.add(applied.changed, "task", saved.id)
            self._after_commit(session, applied)
            event.listen(session, "after_commit", lambda _s: self._wrote(), once=True)
            return saved

        return self._worker.submit(job)

    def run(self, job: Callable[[Session], T]) -> "Future[T]":
        """Run any job on the store worker (seeding the demo, benchmarks)."""
        def any_job(session: Session) -> T:
            self._patient_index.mark_stale()  # it may have written patients
            return job(session)

        return self._worker.submit(any_job)

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
