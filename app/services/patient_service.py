"""Patients as the widgets see them: search, one patient's file, corrections (through the
outbox), and a signal when the sync or a booking changed what a file shows."""

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from PySide6.QtCore import QObject, Signal

from app.services.future_relay import FutureRelay, while_alive
from app.services.message_bridge import MessageBridge
from app.services.schedule_service import Outcome, outcome
from app.store.local_store import LocalStore
from app.store.pull_apply import Applied
from shared.drafts import PatientDraft, PatientListDraft
from shared.errors import KnownError
from shared.records import Appointment, ListEntry, Patient, PatientFile, PatientList

#: How many patients a search lists: enough to pick from, few enough to show at once.
SEARCH_LIMIT = 200


class PatientService(QObject):
    #: Patients, appointments or tasks changed (sync or a write here): shown files reload.
    patientsChanged = Signal()
    #: The lists or what they show (a booking, an invite) changed: shown lists reload.
    listsChanged = Signal()
    #: from the store thread; handled on the GUI thread
    _changed = Signal(object)

    def __init__(self, store: LocalStore, bridge: MessageBridge,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._bridge = bridge
        self._relay = FutureRelay(self)
        self._closed = False
        self._change_listener = self._changed.emit
        self._appointment_listener: Callable[[Appointment], None] = self._changed.emit
        self._changed.connect(self._heard)
        store.add_change_listener(self._change_listener)
        store.add_listener(self._appointment_listener)

    def close(self) -> None:
        self.store.remove_change_listener(self._change_listener)
        self.store.remove_listener(self._appointment_listener)
        self._closed = True

    def _heard(self, what: Applied | Appointment) -> None:
        if self._closed:
            return  # heard from the store thread just before closing; the store is gone
        if isinstance(what, Applied) and not (what.changed or what.removed):
            return
        self.patientsChanged.emit()
        if not isinstance(what, Applied) or "patient_list" in what.changed \
                or "patient_list" in what.removed:
            self.listsChanged.emit()

    def search(self, text: str, born: date | None, done: Callable[[list[Patient]], None]
               ) -> None:
        """Patients matching `text` (name, MRN, phone, email) or born on `born`."""
        done = while_alive(done)

        def found(result: list[Patient] | None, error: KnownError | None) -> None:
            if error is not None:
                self._bridge.warning.emit(str(error))
            done(result or [])

        future = self.store.search_patients(text, SEARCH_LIMIT, born)
        self._relay.then(future, outcome(found))

    def open_file(self, patient_id: UUID, done: Outcome[PatientFile]) -> None:
        self._relay.then(self.store.patient_file(patient_id), outcome(while_alive(done)))

    def save(self, draft: PatientDraft, done: Outcome[Patient]) -> None:
        self._relay.then(self.store.save_patient(draft), outcome(while_alive(done)))

    def load_lists(self, done: Outcome[list[PatientList]]) -> None:
        self._relay.then(self.store.patient_lists(), outcome(while_alive(done)))

    def list_entries(self, list_id: UUID, done: Outcome[list[ListEntry]]) -> None:
        self._relay.then(self.store.list_entries(list_id), outcome(while_alive(done)))

    def save_list(self, draft: PatientListDraft, done: Outcome[PatientList]) -> None:
        self._relay.then(self.store.save_patient_list(draft), outcome(while_alive(done)))

    def delete_list(self, list_id: UUID, deleted: bool, done: Outcome[PatientList]) -> None:
        """Delete the list (`deleted` False: undo that)."""
        self._relay.then(self.store.delete_patient_list(list_id, deleted),
                         outcome(while_alive(done)))

    def appointments_between(self, start: datetime, end: datetime,
                             done: Outcome[list[Appointment]]) -> None:
        """Every appointment starting in [start, end) (a clinician's day, to book around)."""
        self._relay.then(self.store.appointments_between(start, end),
                         outcome(while_alive(done)))
