"""Tasks as the widgets see them: load, save (through the outbox), and hear of synced changes."""

from collections.abc import Callable
from concurrent.futures import Future
from uuid import UUID

from PySide6.QtCore import QObject, Signal

from app.services.future_relay import FutureRelay, while_alive
from app.services.message_bridge import MessageBridge
from app.services.schedule_service import report_unexpected
from app.store.local_store import LocalStore
from app.store.pull_apply import Applied
from shared.drafts import TaskDraft
from shared.errors import KnownError
from shared.records import Task

Outcome = Callable[[Task | None, KnownError | None], None]


class TaskService(QObject):
    #: list[Task]: every task on this desktop, after a load or any change
    tasksLoaded = Signal(object)
    #: (Applied) from the store thread
    _synced = Signal(object)

    def __init__(self, store: LocalStore, user_id: UUID, bridge: MessageBridge,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.user_id = user_id
        self._bridge = bridge
        self._relay = FutureRelay(self)
        self._closed = False
        self._listener = self._synced.emit
        self._synced.connect(self._changed)
        store.add_change_listener(self._listener)

    def close(self) -> None:
        self.store.remove_change_listener(self._listener)
        self._closed = True

    def load(self) -> None:
        def loaded(future: Future[list[Task]]) -> None:
            try:
                self.tasksLoaded.emit(future.result())
            except KnownError as error:
                self._bridge.error.emit(str(error))

        self._relay.then(self.store.tasks(), loaded)

    def save(self, draft: TaskDraft, done: Outcome) -> None:
        done = while_alive(done)
        def saved(future: Future[Task]) -> None:
            error = future.exception()
            if error is None:
                done(future.result(), None)
            elif isinstance(error, KnownError):
                done(None, error)
            else:
                report_unexpected(error)
                done(None, KnownError("An unexpected error stopped this; nothing was saved."))

        self._relay.then(self.store.save_task(draft, self.user_id), saved)

    def _changed(self, applied: Applied) -> None:
        if self._closed:
            return  # heard from the store thread just before closing; the store is gone
        if applied.changed.get("task") or applied.removed.get("task"):
            self.load()
