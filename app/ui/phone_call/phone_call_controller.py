"""Ringing a phone appointment's patient from the schedule: the number checked before anything is
sent, the phone call window, the call dialled by the server through the desktop's API client;
the idle lock held off meanwhile. The server turns the appointment taken when the phone answers."""

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt, Signal

from app.services.message_bridge import MessageBridge
from app.services.phone_call_service import BUSY_ELSEWHERE, PhoneCallService
from app.services.schedule_service import report_unexpected
from app.sync.api_client import ApiClient
from app.sync.errors import ServerBusy
from app.sync.phone_line import ApiPhoneLine
from app.ui.common.window_controller import WindowController
from app.ui.phone_call.phone_call_window import PhoneCallWindow
from shared.enums import AppointmentStatus
from shared.errors import KnownError
from shared.phone_numbers import NumberRefused, check_before_dialling
from shared.records import Appointment

log = logging.getLogger("clinicdesk.media.phone")

#: The server's code for "no phone line set up" (503).
PHONE_LINE_OFF = "phone_calls_off"
#: The server dials a scheduled appointment, and a taken one again (the line dropped).
_DIALLABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.TAKEN)


class ApiSource(Protocol):
    """Where the signed-in API client is (the SyncService)."""

    @property
    def api(self) -> ApiClient: ...


class PhoneCallController(WindowController):
    #: a phone call began (True) or ended (False): the idle lock holds off meanwhile
    inCallChanged = Signal(bool)

    def __init__(self, service: PhoneCallService, sync: ApiSource, bridge: MessageBridge) -> None:
        super().__init__()
        self.service = service
        self.sync = sync
        self._bridge = bridge
        self.call_window: PhoneCallWindow | None = None
        self._task: asyncio.Future[None] | None = None
        #: The server dials telephones (until it says it has no phone line).
        self.dials_out = True
        #: Calls the patient in their browser instead (CallController.start_in_browser).
        self.in_browser: Callable[[Appointment], object] | None = None
        service.ended.connect(self._ended)

    def start(self, appointment: Appointment) -> PhoneCallWindow | None:
        """Check the number (a sentence and nothing sent when it cannot be dialled), open the
        window and dial."""
        if self.service.in_call or self.service.calls.in_call or self.call_window is not None:
            self._bridge.info.emit(BUSY_ELSEWHERE)
            return None
        if appointment.status not in _DIALLABLE:
            state = appointment.status.value.replace("_", "-")
            self._bridge.info.emit(f"This appointment is {state}.")
            return None
        not_called = f"{appointment.patient.name}'s phone was not called:"
        if not appointment.patient.phone.strip():
            self._bridge.warning.emit(f"{not_called} the patient has no phone number. Add one "
                                      "in the patient's details and call again.")
            return None
        try:
            check_before_dialling(appointment.patient.phone)
        except NumberRefused as refusal:
            self._bridge.warning.emit(f"{not_called} {refusal} Correct the number in the "
                                      "patient's details and call again.")
            return None
        window = PhoneCallWindow(self.service, appointment.patient.name,
                                 appointment.patient.phone.strip(), self.host())
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.destroyed.connect(self._window_closed)
        window.show()
        self.call_window = window
        self.inCallChanged.emit(True)
        log.info("dialling a phone appointment's patient")
        self._task = asyncio.ensure_future(self._dial(appointment))
        return window

    async def _dial(self, appointment: Appointment) -> None:
        try:
            await self.service.dial(ApiPhoneLine(self.sync.api, appointment.id))
        except ServerBusy as error:
            if error.code != PHONE_LINE_OFF or self.in_browser is None:
                self._refused(str(error))
                return
            # This server has no phone line (the demo's, or one without a trunk): the patient
            # joins from their browser, audio only, as before dial-out existed.
            self.dials_out = False
            self.inCallChanged.emit(False)
            self._bridge.info.emit(f"{error} Calling the patient in their browser instead "
                                   "(audio only, through the invite's link).")
            if self.call_window is not None:
                self.call_window.close()
            self.in_browser(appointment)
            return
        except KnownError as error:
            self._refused(str(error))
            return
        except Exception as error:  # an unexpected failure goes to the crash handler
            self.inCallChanged.emit(False)
            report_unexpected(error)
            if self.call_window is not None:
                self.call_window.show_failure("The call could not be placed.")
            return
        if self.call_window is not None:
            self.call_window.number_label.setText(self.service.number)

    def _refused(self, message: str) -> None:
        """Refused (the number, someone else calling), or the phone service down: said in the
        window and on the schedule; the appointment is as it was."""
        self.inCallChanged.emit(False)
        self._bridge.warning.emit(message)
        if self.call_window is not None:
            self.call_window.show_failure(message)

    def _ended(self, _heading: str, _message: str) -> None:
        self.inCallChanged.emit(False)

    def _window_closed(self) -> None:
        self.call_window = None
