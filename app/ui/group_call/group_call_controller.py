"""Joining a group appointment's call from the schedule: the credential from the server, the
group call window, the appointment marked taken once joined, the idle lock held off meanwhile;
the clinician's room controls (admit, mute, remove, lock, end for all) done through the server,
and the list of those waiting to be admitted, asked of the server while the window is open."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any
from uuid import UUID

from PySide6.QtCore import Qt, Signal

from app.services.group_call_service import GroupCallService
from app.services.message_bridge import MessageBridge
from app.services.schedule_service import ScheduleService, report_unexpected
from app.services.sync_service import SyncService
from app.ui.common.window_controller import WindowController
from app.ui.group_call.group_call_window import GroupCallWindow
from shared.enums import AppointmentStatus
from shared.errors import KnownError
from shared.records import Appointment

log = logging.getLogger("clinicdesk.media.group")

#: What the status line says after a control (the server's word for it).
_DONE = {
    "muted": "Muted in the call.",
    "unmuted": "Unmuted in the call.",
    "removed": "Removed from the call: their link no longer opens it.",
    "locked": "The call is locked: nobody new can join.",
    "open": "The call is open again.",
    "ended": "The call has ended for everyone.",
}

#: How often the window's list of those waiting to be admitted is asked for again (the server
#: knows whose page is open; a page that closes leaves the list within this and its grace).
WAITING_EVERY_SECONDS = 2.0

#: A group call goes on after the clinician joined (taken) until the appointment ends.
_JOINABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.TAKEN)


class GroupCallController(WindowController):
    #: joined a group call (True) or left it (False): the idle lock holds off meanwhile
    inCallChanged = Signal(bool)

    def __init__(
        self,
        service: GroupCallService,
        sync: SyncService,
        schedule: ScheduleService,
        bridge: MessageBridge,
    ) -> None:
        super().__init__()
        self.service = service
        self.sync = sync
        self.schedule = schedule
        self._bridge = bridge
        self.call_window: GroupCallWindow | None = None
        self._task: asyncio.Future[None] | None = None
        self._controls: set[asyncio.Future[None]] = set()
        self._watch: asyncio.Future[None] | None = None
        service.ended.connect(self._ended)

    def start(self, appointment: Appointment) -> GroupCallWindow | None:
        if self.service.in_call or self.call_window is not None:
            self._bridge.info.emit(
                "A group call is already open: leave it before joining another.")
            return None
        if appointment.status not in _JOINABLE:
            state = appointment.status.value.replace("_", "-")
            self._bridge.info.emit(f"This appointment is {state}.")
            return None
        window = GroupCallWindow(self.service, appointment.patient.name, self.host())
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.destroyed.connect(self._window_closed)
        controls = window.room_controls
        appointment_id = appointment.id
        controls.muteRequested.connect(
            lambda who, muted: self._control(
                appointment_id, f"participants/{who}/mute", {"muted": muted}))
        controls.removeRequested.connect(
            lambda who: self._control(appointment_id, f"participants/{who}/remove"))
        controls.lockRequested.connect(
            lambda locked: self._control(appointment_id, "lock", {"locked": locked}))
        controls.endRequested.connect(lambda: self._control(appointment_id, "end"))
        window.waiting_list.admitRequested.connect(
            lambda who: self._admit(appointment_id, list(who)))
        window.show()
        self.call_window = window
        self.inCallChanged.emit(True)
        self._task = asyncio.ensure_future(self._join(appointment))
        self._watch = asyncio.ensure_future(self._watch_waiting(appointment_id))
        return window

    async def _join(self, appointment: Appointment) -> None:
        try:
            credential = await self.sync.api.group_call(appointment.id)
            # After a Janus restart the call asks the server again (the rooms come back).
            await self.service.join(
                credential, again=lambda: self.sync.api.group_call(appointment.id))
        except KnownError as error:
            # Janus down, not set up, or the room refused: said in the window and on the
            # schedule; nothing else changes (1:1 calls do not use Janus).
            self.inCallChanged.emit(False)
            self._bridge.warning.emit(str(error))
            if self.call_window is not None:
                self.call_window.show_ended(str(error))
            return
        except Exception as error:  # an unexpected failure goes to the crash handler
            self.inCallChanged.emit(False)
            report_unexpected(error)
            return
        if appointment.status is AppointmentStatus.SCHEDULED:
            # Taken on every desktop within a second, through the outbox.
            self.schedule.set_status(appointment.id, AppointmentStatus.TAKEN)

    def _control(
        self, appointment_id: UUID, control: str, body: dict[str, Any] | None = None
    ) -> None:
        self._keep(self._do(appointment_id, control, body))

    def _keep(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._controls.add(task)
        task.add_done_callback(self._controls.discard)

    async def _watch_waiting(self, appointment_id: UUID) -> None:
        """Keeps the window's waiting list fresh while it is open (offline: tried again)."""
        while self.call_window is not None:
            await self._refresh_waiting(appointment_id)
            await asyncio.sleep(WAITING_EVERY_SECONDS)

    async def _refresh_waiting(self, appointment_id: UUID) -> None:
        try:
            found = await self.sync.api.group_waiting(appointment_id)
        except KnownError as error:
            log.info("the waiting list is not available: %s", error)
            return
        if self.call_window is not None:
            self.call_window.waiting_list.show_waiting(found.waiting)

    def _admit(self, appointment_id: UUID, participants: list[str]) -> None:
        self._keep(self._let_in(appointment_id, participants))

    async def _let_in(self, appointment_id: UUID, participants: list[str]) -> None:
        try:
            admitted = await self.sync.api.group_admit(appointment_id, participants)
        except KnownError as error:
            # Locked, removed meanwhile, offline: said in the window; they keep waiting.
            self._bridge.warning.emit(str(error))
            if self.call_window is not None:
                self.call_window.show_notice(str(error))
            return
        except Exception as error:  # an unexpected failure goes to the crash handler
            report_unexpected(error)
            return
        people = "1 person" if len(admitted) == 1 else f"{len(admitted)} people"
        self._bridge.note.emit(f"Admitted {people}: they join the call now.", 5000)
        await self._refresh_waiting(appointment_id)

    async def _do(
        self, appointment_id: UUID, control: str, body: dict[str, Any] | None
    ) -> None:
        try:
            done = await self.sync.api.group_control(appointment_id, control, body)
        except KnownError as error:
            # Janus down or the server refusing: said in the window; the call goes on.
            self._bridge.warning.emit(str(error))
            if self.call_window is not None:
                self.call_window.show_notice(str(error))
                if control == "lock":
                    self.call_window.room_controls.set_locked(not (body or {}).get("locked"))
            return
        except Exception as error:  # an unexpected failure goes to the crash handler
            report_unexpected(error)
            return
        log.info("group call control %s: %s", control.split("/")[-1], done)
        self._bridge.note.emit(_DONE.get(done, f"The call is {done}."), 5000)

    def _ended(self, _message: str) -> None:
        self.inCallChanged.emit(False)

    def _window_closed(self) -> None:
        self.call_window = None
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
