"""Reaching the patient through the server: resend the invite, a fresh link, a message to the
waiting room. Widgets call these; the outcome comes back as a callback on the GUI thread."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from PySide6.QtCore import QObject

from app.services.message_bridge import MessageBridge
from app.services.schedule_service import report_unexpected
from app.sync.api_client import ApiClient
from shared.errors import KnownError
from shared.records import Appointment

log = logging.getLogger("clinicdesk.sync")
T = TypeVar("T")
Done = Callable[[T | None, KnownError | None], None]


class PatientContactService(QObject):
    def __init__(self, api: ApiClient, bridge: MessageBridge,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._api = api
        self._bridge = bridge
        self._tasks: set[asyncio.Future[None]] = set()

    def resend_invite(self, appointment: Appointment, done: Done[None] | None = None) -> None:
        async def send() -> None:
            await self._api.resend_invites(appointment.id)
            self._bridge.info.emit(f"The invite to {appointment.patient.name} is on its way.")

        self._run(send(), done)

    def invite_all(self, appointments: list[Appointment],
                   done: Done[int] | None = None) -> None:
        """Invite each patient in turn; one message at the end says how many went out."""
        async def send() -> int:
            sent, refused = 0, []
            for appointment in appointments:
                try:
                    await self._api.resend_invites(appointment.id)
                    sent += 1
                except KnownError as error:
                    refused.append(f"{appointment.patient.name}: {error}")
            noun = "patient" if sent == 1 else "patients"
            if refused:
                self._bridge.warning.emit(
                    f"Invites are on their way to {sent} {noun}; not sent to "
                    + "; ".join(refused))
            else:
                self._bridge.info.emit(f"Invites are on their way to {sent} {noun}.")
            return sent

        self._run(send(), done)

    def patient_link(self, appointment: Appointment, done: Done[str]) -> None:
        self._run(self._api.patient_link(appointment.id), done)

    def send_message(self, appointment: Appointment, text: str,
                     done: Done[None] | None = None) -> None:
        self._run(self._api.waiting_message(appointment.id, text), done)

    def _run(self, work: Awaitable[T], done: Done[T] | None) -> None:
        async def wrapped() -> None:
            try:
                result = await work
            except KnownError as error:
                log.info("patient contact refused: %s", type(error).__name__)
                if done is not None:
                    done(None, error)
                else:
                    self._bridge.warning.emit(str(error))
                return
            except Exception as error:  # an unexpected failure goes to the crash handler
                report_unexpected(error)
                return
            if done is not None:
                done(result, None)

        task = asyncio.ensure_future(wrapped())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
