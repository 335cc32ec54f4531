"""The sync as the widgets see it: status, sign-in state and presence as Qt signals.

Owns the sync engine and the realtime connection (asyncio tasks on the qasync loop) for one
signed-in account. Local writes wake the engine; "changes" hints make it pull; presence
events go to the waiting room; a session the server ended asks the user to sign in.
"""

import asyncio
import logging
from datetime import datetime
from uuid import UUID

from PySide6.QtCore import QObject, Signal

from app.services.waiting_room_service import WaitingRoomService
from app.store.local_store import LocalStore
from app.sync.api_client import ApiClient
from app.sync.hub_signalling import HubSignalling
from app.sync.realtime_client import RealtimeClient
from app.sync.sync_engine import SyncEngine
from app.sync.sync_status import SyncStatus
from shared.clock import ServerClock
from shared.events import waiting_room_event
from shared.realtime_protocol import ErrorEvent, PresenceEvent, SignalEvent

log = logging.getLogger("clinicdesk.sync")


class SyncService(QObject):
    #: SyncStatus, after every step of the sync
    statusChanged = Signal(object)
    #: the server ended the session (sentence for the user): ask them to sign in again
    signInRequired = Signal(str)
    #: the server's staff and locations were written to the store (read them again)
    directoryUpdated = Signal()

    def __init__(
        self,
        store: LocalStore,
        api: ApiClient,
        waiting_room: WaitingRoomService,
        clock: ServerClock | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.api = api
        self._waiting_room = waiting_room
        self._clock = clock
        self.status = SyncStatus()
        self.engine = SyncEngine(store, api, self._on_status,
                                 on_server_time=self._on_server_time,
                                 on_directory=self.directoryUpdated.emit)
        self.realtime = RealtimeClient(
            api,
            on_changes=self.engine.announce_head,
            on_presence=self._on_presence,
            on_connected=self._on_connected,
            on_signed_out=self._on_signed_out,
            on_signal=self._on_signal,
            on_error=self._on_socket_error,
        )
        self._calls: dict[UUID, HubSignalling] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener = self._local_write
        self._running = False

    # --- life ------------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_event_loop()
        self.store.add_write_listener(self._listener)
        self._running = True
        self.engine.start()
        self.realtime.start()

    async def stop(self) -> None:
        self._running = False
        self.store.remove_write_listener(self._listener)
        await self.realtime.stop()
        await self.engine.stop()

    def resume(self) -> None:
        """After the user signed in again: sync and listen again."""
        if self._running:
            self.engine.start()
            self.realtime.start()

    def sync_now(self) -> None:
        self.engine.wake()

    # --- calls ------------------------------------------------------------------------------
    def call_signalling(self, appointment_id: UUID) -> HubSignalling:
        """The signalling of a call for `appointment_id` over this desktop's realtime socket."""
        signalling = HubSignalling(appointment_id, self.realtime.send_signal,
                                   self._call_closed)
        self._calls[appointment_id] = signalling
        return signalling

    def _call_closed(self, signalling: HubSignalling) -> None:
        if self._calls.get(signalling.appointment_id) is signalling:
            del self._calls[signalling.appointment_id]

    def _on_signal(self, event: SignalEvent) -> None:
        signalling = self._calls.get(event.appointment_id)
        if signalling is not None:
            signalling.deliver(event)

    def _on_socket_error(self, event: ErrorEvent) -> None:
        """The server refused a message: a refused call offer ends that call with the reason."""
        if event.refused == "signal":
            for signalling in list(self._calls.values()):
                if event.code in ("call_taken", "forbidden", "not_found"):
                    signalling.refuse(event.message)

    # --- from the store thread and the sync tasks --------------------------------------------
    def _local_write(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.engine.wake)

    def _on_status(self, status: SyncStatus) -> None:
        self.status = status
        self.statusChanged.emit(status)

    def _on_server_time(self, server_time: datetime) -> None:
        if self._clock is not None and self._clock.observe(server_time):
            log.info("workstation clock differs from the server's by %s; using server time",
                     self._clock.offset)

    def _on_presence(self, event: PresenceEvent) -> None:
        self._waiting_room.apply(waiting_room_event(event))

    def _on_connected(self, connected: bool) -> None:
        if connected:
            self.engine.reconnected()  # the server is back: do not sit out the backoff
        else:
            # Nobody is known to be waiting while we cannot hear: the snapshot on reconnect
            # brings back those still there.
            self._waiting_room.clear()

    def _on_signed_out(self, message: str) -> None:
        self.signInRequired.emit(message)
