"""Receiving one HL7 message: duplicate check, apply, log and ACK, committed before the ACK.

Runs in a worker thread (database work). A message whose control id was applied before gets
the ACK it got then, with no second effect. A refused message changes nothing (its savepoint
is rolled back) but is logged. When the database cannot be reached nothing is logged and the
answer is AR, which tells the interface engine to send the message again.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import hl7
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from server.app_state import state_of
from server.integration import hl7_apply, hl7_log, hl7_read
from server.integration.hl7_ack import acknowledge, reject_unreadable
from server.integration.hl7_read import Refusal
from server.models.user import User
from server.realtime.hub import Hub
from server.services.caller import Caller
from server.session_effects import ServerSession
from server.settings import Settings

log = logging.getLogger("clinicdesk.server.hl7")


@dataclass(frozen=True, slots=True)
class Inbox:
    """What handling a message needs: the database, the hub, the settings, the actor."""

    engine: Engine
    hub: Hub
    settings: Settings
    interface_id: UUID
    #: The invite worker's wake-up when email is set up: changes to invited appointments
    #: queue invites (new bookings from HL7 are not invited until staff say so).
    wake: Callable[[], None] | None = None

    def handle(self, raw: bytes, address: str, now: datetime) -> bytes:
        """The ACK (without MLLP framing) of the message `raw`."""
        text = hl7_read.decode(raw)
        try:
            message = hl7_read.parse(text)
        except Refusal as refusal:
            return self._log_refused(text, reject_unreadable(text, refusal), refusal, now)
        try:
            head = hl7_read.header(message)
        except Refusal as refusal:
            ack = acknowledge(message, refusal.ack_code, refusal.message, refusal)
            return self._log_refused(text, ack, refusal, now)
        try:
            return self._apply(message, head, text, address, now).encode()
        except (OperationalError, DBAPIError) as error:
            log.warning("HL7 %s not applied, the database failed: %s", head.control_id,
                        type(error).__name__)
            down = Refusal("MSH", "The clinic's database is unavailable: send the message "
                              "again.", hl7_read.INTERNAL_ERROR, "AR")
            return acknowledge(message, "AR", down.message, down).encode()

    def _log_refused(self, text: str, ack: str, refusal: Refusal, now: datetime) -> bytes:
        """Keep a message that could not be read in the log too, when the database answers."""
        try:
            with Session(self.engine) as session:
                hl7_log.record(
                    session, at=now, sender="", control_id="", event="", subject="",
                    ack_code=refusal.ack_code, error=f"{refusal.field}: {refusal.message}",
                    raw=text, ack=ack, keep=self.settings.hl7_log_max_messages,
                )
                session.commit()
        except DBAPIError as error:
            log.warning("an unreadable HL7 message was not logged: %s", type(error).__name__)
        return ack.encode()

    def _apply(self, message: hl7.Message, head: hl7_read.Header, text: str, address: str,
               now: datetime) -> str:
        with ServerSession(
            self.engine, expire_on_commit=False, hub=self.hub, wake_invites=self.wake
        ) as session:
            previous = hl7_log.applied_ack(session, head.sender, head.control_id)
            if previous is not None:
                session.commit()
                return previous
            user = session.get(User, self.interface_id)
            assert user is not None
            caller = Caller(user=user, address=address[:64], now=now, system=True)
            subject, error = "", ""
            try:
                with session.begin_nested():
                    outcome = hl7_apply.apply(session, self.settings, caller, message, head)
                code, subject = "AA", outcome.subject
                ack = acknowledge(message, "AA", outcome.text)
            except Refusal as refusal:
                code, error = refusal.ack_code, f"{refusal.field}: {refusal.message}"
                subject = hl7_apply.subject_of(message, head, self.settings)
                ack = acknowledge(message, refusal.ack_code, refusal.message,
                                  refusal)
            hl7_log.record(
                session, at=now, sender=head.sender, control_id=head.control_id,
                event=head.name, ack_code=code, subject=subject, error=error, raw=text,
                ack=ack, keep=self.settings.hl7_log_max_messages,
            )
            session.commit()
            return ack


def inbox_of(app: FastAPI, interface_id: UUID) -> Inbox:
    """How `app` applies HL7 messages (its MLLP listener's, and an admin's replay)."""
    state = state_of(app)
    sender = state.invite_sender
    wake = sender.wake if sender is not None else None
    return Inbox(state.engine, state.hub, state.settings, interface_id, wake)
