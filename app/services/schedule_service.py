"""The schedule's service: loads ranges and writes appointments through the local store.

Widgets call these methods and hear back through signals or a callback on the GUI thread; they
never touch the store (or SQL) themselves.
"""

import logging
import sys
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from PySide6.QtCore import QObject, Signal

from app.services.future_relay import FutureRelay, while_alive
from app.services.message_bridge import MessageBridge
from app.store.local_store import LocalStore
from app.store.pull_apply import Applied
from app.store.sync_facts import RejectedRecord
from shared.drafts import AppointmentDraft
from shared.enums import AppointmentStatus
from shared.errors import KnownError
from shared.records import Appointment, Location, Patient, PhoneAttempt, StaffMember

log = logging.getLogger("clinicdesk.schedule")
T = TypeVar("T")
#: (result, None) on success, (None, error) on a KnownError the caller shows inline.
Outcome = Callable[[T | None, KnownError | None], None]


def report_unexpected(error: BaseException) -> None:
    """Hand an error nobody expected to the crash handler (dialog + log), not to the user inline."""
    sys.excepthook(type(error), error, error.__traceback__)


class ScheduleService(QObject):
    #: (range start, range end, list[Appointment]) for the latest load_range call
    rangeLoaded = Signal(object, object, object)
    #: an appointment was written (by this desktop or, later, by sync)
    appointmentChanged = Signal(object)
    #: (list[StaffMember], list[Location])
    directoryLoaded = Signal(object, object)
    #: The sync changed records: (appointments now in the shown range, ids to drop from it)
    appointmentsSynced = Signal(object, object)
    #: (Applied) from the store thread; handled on the GUI thread
    _synced = Signal(object)

    def __init__(self, store: LocalStore, bridge: MessageBridge, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self._bridge = bridge
        self._relay = FutureRelay(self)
        self._range_request = 0
        self.staff: list[StaffMember] = []
        self.locations: list[Location] = []
        # Called on the store thread; the signal is queued onto the GUI thread.
        self._listener = self.appointmentChanged.emit
        store.add_listener(self._listener)
        self._range: tuple[datetime, datetime] | None = None
        self._closed = False
        self._change_listener = self._synced.emit
        self._synced.connect(self._records_synced)
        store.add_change_listener(self._change_listener)

    def close(self) -> None:
        """Stop hearing the store (before this object goes away while the store lives on)."""
        self.store.remove_listener(self._listener)
        self.store.remove_change_listener(self._change_listener)
        self._closed = True

    def _records_synced(self, applied: Applied) -> None:
        """Records the sync changed: fetch those in the shown range, drop the rest from it."""
        if self._closed:
            return  # heard from the store thread just before closing; the store is gone
        if self._range is None:
            return
        changed = applied.changed.get("appointment", set())
        removed = applied.removed.get("appointment", set())
        start, end = self._range

        def loaded(future: Future[list[Appointment]]) -> None:
            try:
                found = future.result()
            except KnownError as error:
                self._bridge.error.emit(str(error))
                return
            gone = (changed - {a.id for a in found}) | removed
            if found or gone:
                self.appointmentsSynced.emit(found, gone)

        self._relay.then(self.store.appointments_in_range_by_ids(changed, start, end), loaded)

    def now(self) -> datetime:
        return self.store.clock.now()

    def load_directory(self) -> None:
        staff = self.store.staff()
        locations = self.store.locations()

        def loaded(_: Future[list[Location]]) -> None:
            try:
                self.staff, self.locations = staff.result(), locations.result()
            except KnownError as error:
                self._bridge.error.emit(str(error))
                return
            self.directoryLoaded.emit(self.staff, self.locations)

        # The worker is serial: when locations are done, staff is too.
        self._relay.then(locations, loaded)

    def load_range(self, start: datetime, end: datetime) -> None:
        """Load [start, end); only the latest request's answer is emitted (fast day flipping)."""
        self._range_request += 1
        request = self._range_request
        self._range = (start, end)

        def loaded(future: Future[list[Appointment]]) -> None:
            if request != self._range_request:
                return
            try:
                self.rangeLoaded.emit(start, end, future.result())
            except KnownError as error:
                self._bridge.error.emit(str(error))

        self._relay.then(self.store.appointments_between(start, end), loaded)

    def save_appointment(self, draft: AppointmentDraft, done: Outcome[Appointment]) -> None:
        done = while_alive(done)
        self._relay.then(self.store.save_appointment(draft), self._outcome(done))

    def set_status(
        self,
        appointment_id: UUID,
        status: AppointmentStatus,
        reason: str = "",
        done: Outcome[Appointment] | None = None,
    ) -> None:
        alive = None if done is None else while_alive(done)

        def shown(result: Appointment | None, error: KnownError | None) -> None:
            if error is not None:
                self._bridge.warning.emit(str(error))
            if alive is not None:
                alive(result, error)

        future = self.store.set_status(appointment_id, status, reason)
        self._relay.then(future, self._outcome(shown))

    def search_patients(self, text: str, done: Callable[[list[Patient]], None]) -> None:
        done = while_alive(done)
        def found(result: list[Patient] | None, error: KnownError | None) -> None:
            if error is not None:
                self._bridge.warning.emit(str(error))
            done(result or [])

        self._relay.then(self.store.search_patients(text), self._outcome(found))

    def rejected(self, done: Callable[[list[RejectedRecord]], None]) -> None:
        """The changes the server refused (the "needs attention" list)."""
        done = while_alive(done)
        def found(result: list[RejectedRecord] | None, error: KnownError | None) -> None:
            if error is not None:
                self._bridge.warning.emit(str(error))
            done(result or [])

        self._relay.then(self.store.rejected(), self._outcome(found))

    def discard(self, entity_type: str, entity_id: UUID, done: Outcome[Applied]) -> None:
        """Give up a refused change: back to the server's copy (or gone if it never had it)."""
        done = while_alive(done)
        self._relay.then(self.store.discard(entity_type, entity_id), self._outcome(done))

    def phone_attempts(self, appointment_id: UUID, done: Outcome[list[PhoneAttempt]]) -> None:
        """The appointment's calls to the patient's phone (synced from the server), newest
        first."""
        done = while_alive(done)
        self._relay.then(self.store.phone_attempts(appointment_id), self._outcome(done))

    def get_appointment(self, appointment_id: UUID, done: Outcome[Appointment]) -> None:
        done = while_alive(done)
        self._relay.then(self.store.get_appointment(appointment_id), self._outcome(done))

    def _outcome(self, done: Outcome[T]) -> Callable[[Future[T]], None]:
        return outcome(done)


def outcome(done: Outcome[T]) -> Callable[[Future[T]], None]:
    """A store future's callback that hands `done` the result, or the KnownError to show
    inline; anything else goes to the crash handler and `done` hears a general sentence."""
    def deliver(future: Future[T]) -> None:
        error = future.exception()
        if error is None:
            done(future.result(), None)
        elif isinstance(error, KnownError):
            log.info("store refused a write: %s", type(error).__name__)
            done(None, error)
        else:
            report_unexpected(error)
            done(None, KnownError("An unexpected error stopped this; nothing was changed."))

    return deliver
