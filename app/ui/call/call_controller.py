"""Starting a call from the schedule: the call window, the signalling over the server's realtime
hub, the appointment marked taken once connected; `inCallChanged` holds the idle lock off."""

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt, QTimer, Signal

from app.media.call_state import CallState
from app.services.call_service import CallService
from app.services.message_bridge import MessageBridge
from app.services.schedule_service import ScheduleService, report_unexpected
from app.services.sync_service import SyncService
from app.sync.hub_signalling import HubSignalling
from app.ui.call.call_window import CallWindow
from app.ui.common.window_controller import WindowController
from app.ui.schedule.actions_menu import dials_phone
from shared.enums import AppointmentKind, AppointmentStatus
from shared.errors import KnownError
from shared.records import Appointment

log = logging.getLogger("clinicdesk.media")


class GroupStarter(Protocol):
    """Joins a group appointment's call (app/ui/group_call/group_call_controller.py)."""

    def start(self, appointment: Appointment) -> object: ...


class PhoneStarter(GroupStarter, Protocol):
    """Rings a phone appointment's patient (app/ui/phone_call/phone_call_controller.py)."""

    @property
    def dials_out(self) -> bool:
        """False once the server said it has no phone line: the browser's audio call instead."""


class CallController(WindowController):
    #: a call began (True) or ended (False): the idle lock holds off meanwhile
    inCallChanged = Signal(bool)

    def __init__(self, calls: CallService, sync: SyncService, schedule: ScheduleService,
                 bridge: MessageBridge,
                 follow_up: Callable[[Appointment], object] | None = None) -> None:
        super().__init__()
        self.calls = calls
        self.sync = sync
        self.schedule = schedule
        self._bridge = bridge
        self._follow_up = follow_up
        self.call_window: CallWindow | None = None
        self.appointment: Appointment | None = None
        self._signalling: HubSignalling | None = None
        self._task: asyncio.Future[None] | None = None
        self._marked_taken = False
        #: Joins group appointments' calls (app/ui/group_call/group_call_controller.py).
        self.group: GroupStarter | None = None
        #: Rings the telephone of a phone appointment's patient who has a number
        #: (app/ui/phone_call/phone_call_controller.py); without one, the browser audio call.
        self.phone: PhoneStarter | None = None
        calls.stateChanged.connect(self._state_changed)
        calls.ended.connect(self._ended)

    def start(self, appointment: Appointment) -> CallWindow | None:
        """Call the patient of `appointment` (one click on the row, or Enter on a green row)."""
        if appointment.kind is AppointmentKind.GROUP and self.group is not None:
            self.group.start(appointment)
            return None
        if self.phone is not None and dials_phone(appointment) and self.phone.dials_out:
            self.phone.start(appointment)
            return None
        return self.start_in_browser(appointment)

    def start_in_browser(self, appointment: Appointment) -> CallWindow | None:
        """The 1:1 call with the patient's browser (video, or audio only for a phone
        appointment whose patient has no number, or when the server does not dial out)."""
        if self.calls.in_call:
            self._bridge.info.emit(
                "A call is already in progress: hang up before starting another.")
            return None
        if appointment.status is not AppointmentStatus.SCHEDULED:
            self._bridge.info.emit(
                f"This appointment is {appointment.status.value.replace('_', '-')}.")
            return None
        if not self.sync.realtime.connected:
            self._bridge.warning.emit(
                "Calls need the connection to the Clinic Desk server, which is down "
                "just now. Try again when the status bar says Online.")
            return None
        audio_only = appointment.kind is AppointmentKind.PHONE
        window = CallWindow(self.calls, appointment.patient.name, audio_only, self.host())
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.destroyed.connect(self._window_closed)
        if self._follow_up is not None:
            window.offers_follow_up = True
            window.follow_up_button.clicked.connect(self._create_follow_up)
        window.show()
        self.call_window = window
        self.appointment = appointment
        self._marked_taken = False
        self._signalling = self.sync.call_signalling(appointment.id)
        self.inCallChanged.emit(True)
        log.info("starting a %s call", "phone" if audio_only else "video")
        self._task = asyncio.ensure_future(
            self._start(self._signalling, appointment, audio_only))
        return window

    async def _start(
        self, signalling: HubSignalling, appointment: Appointment, audio_only: bool
    ) -> None:
        try:
            # This call's STUN/TURN servers and credentials, minted now (for both sides).
            servers, relay_only = await self.sync.api.call_ice(appointment.id)
        except KnownError as error:
            log.info("no STUN/TURN list from the server (%s): this machine's own only",
                     type(error).__name__)
            servers, relay_only = [], False
        try:
            await self.calls.start_call(
                signalling, appointment.patient.name, audio_only, servers, relay_only,
                # Each reconnection asks for credentials minted then: these may have expired.
                renew_ice=lambda: self.sync.api.call_ice(appointment.id))
        except KnownError as error:
            self._bridge.warning.emit(str(error))
            await self._finish()
            if self.call_window is not None:
                self.call_window.close()
        except Exception as error:  # an unexpected failure goes to the crash handler
            report_unexpected(error)
            await self._finish()

    def _state_changed(self, state: str) -> None:
        if state == CallState.CONNECTED.value and not self._marked_taken \
                and self.appointment is not None:
            # Taken on every desktop within a second: the status travels through the outbox.
            self._marked_taken = True
            self.schedule.set_status(self.appointment.id, AppointmentStatus.TAKEN)

    def _ended(self, _reason: str) -> None:
        refusal = self._signalling.refusal if self._signalling is not None else ""
        if refusal:
            # A second taker: say who has the call, on the schedule and (after the window has
            # shown its own end) in the call window.
            self._bridge.warning.emit(refusal)
            if self.call_window is not None:
                self.call_window.offers_follow_up = False
            QTimer.singleShot(0, self, lambda: self._show_refusal(refusal))
        asyncio.ensure_future(self._finish())

    def _show_refusal(self, refusal: str) -> None:
        if self.call_window is not None:
            self.call_window.remote_view.show_text(refusal)
            self.call_window.follow_up_button.hide()

    async def _finish(self) -> None:
        self.inCallChanged.emit(False)
        if self._signalling is not None:
            await self._signalling.close()
            self._signalling = None

    def _create_follow_up(self) -> None:
        if self._follow_up is not None and self.appointment is not None:
            self._follow_up(self.appointment)

    def _window_closed(self) -> None:
        self.call_window = None
