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
from server.integration import hl7_apply, hl7_log, hl7_read, interface_account
from server.integration.hl7_ack import acknowledge, reject_unreadable
from server.integration.hl7_read import Refusal
from server.models.hl7_message import Hl7Message
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
        return self.handle_batch([raw], address, now)[0]

    def handle_batch(self, raws: list[bytes], address: str, now: datetime) -> list[bytes]:
        """The ACKs of `raws` in order, all committed in one transaction (one fsync) first.

        Each message still applies, or is refused, on its own (a savepoint each). When the
        database fails, nothing of the batch was committed: the messages are tried again one
        at a time (a deadlock with another connection's batch then goes away), and each that
        cannot be committed is answered AR.
        """
        try:
            return self._commit_together(raws, address, now)
        except (OperationalError, DBAPIError) as error:
            if len(raws) > 1:
                return [self.handle(raw, address, now) for raw in raws]
            reading = _read(raws[0])
            if reading.head is None:
                log.warning("an unreadable HL7 message was not logged: %s", type(error).__name__)
                return [reading.refused_ack.encode()]
            log.warning("HL7 %s not applied, the database failed: %s",
                        reading.head.control_id, type(error).__name__)
            down = Refusal("MSH", "The clinic's database is unavailable: send the message "
                              "again.", hl7_read.INTERNAL_ERROR, "AR")
            assert reading.message is not None
            return [acknowledge(reading.message, "AR", down.message, down).encode()]

    def _commit_together(self, raws: list[bytes], address: str, now: datetime) -> list[bytes]:
        with ServerSession(
            self.engine, expire_on_commit=False, hub=self.hub, wake_invites=self.wake
        ) as session:
            accounts = hl7_apply.hold_accounts(session, self.settings, interface_account.USERNAME)
            user = session.get(User, self.interface_id)
            assert user is not None
            caller = Caller(user=user, address=address[:64], now=now, system=True)
            readings = [_read(raw) for raw in raws]
            applied = hl7_log.applied_acks(session, [
                (r.head.sender, r.head.control_id) for r in readings if r.head and r.message
            ])
            logged: list[Hl7Message] = []
            acks = [self._receive(session, caller, r, applied, logged) for r in readings]
            hl7_log.record_all(session, logged, self.settings.hl7_log_max_messages)
            session.commit()
            del accounts  # held until here: the batch found them without a query each
            return [ack.encode() for ack in acks]

    def _receive(self, session: Session, caller: Caller, reading: "_Reading",
                 applied: dict[tuple[str, str], str], logged: list[Hl7Message]) -> str:
        """Apply or refuse one message inside the batch's transaction; its log row joins
        `logged`, its ACK (when applied) `applied`; its ACK."""
        if reading.head is None or reading.message is None:
            assert reading.refusal is not None
            logged.append(self._log(caller.now, reading.text, reading.refused_ack,
                                    reading.refusal))
            return reading.refused_ack
        message, head = reading.message, reading.head
        previous = applied.get((head.sender, head.control_id))
        if previous is not None:
            return previous
        subject, error = "", ""
        try:
            with session.begin_nested():
                outcome = hl7_apply.apply(session, self.settings, caller, message, head)
            code, subject = "AA", outcome.subject
            ack = acknowledge(message, "AA", outcome.text)
        except Refusal as refusal:
            code, error = refusal.ack_code, f"{refusal.field}: {refusal.message}"
            subject = hl7_apply.subject_of(message, head, self.settings)
            ack = acknowledge(message, refusal.ack_code, refusal.message, refusal)
        logged.append(hl7_log.entry(
            at=caller.now, sender=head.sender, control_id=head.control_id,
            event=head.name, ack_code=code, subject=subject, error=error, raw=reading.text,
            ack=ack,
        ))
        if code == "AA":
            applied[(head.sender, head.control_id)] = ack
        return ack

    def _log(self, now: datetime, text: str, ack: str, refusal: Refusal) -> Hl7Message:
        """The log row of a message that could not be read (kept too)."""
        return hl7_log.entry(
            at=now, sender="", control_id="", event="", subject="",
            ack_code=refusal.ack_code, error=f"{refusal.field}: {refusal.message}",
            raw=text, ack=ack,
        )


@dataclass(frozen=True, slots=True)
class _Reading:
    """A received message as far as it could be read: parsed with its header, or refused."""

    text: str
    message: hl7.Message | None = None
    head: hl7_read.Header | None = None
    refusal: Refusal | None = None
    refused_ack: str = ""


def _read(raw: bytes) -> _Reading:
    text = hl7_read.decode(raw)
    try:
        message = hl7_read.parse(text)
    except Refusal as refusal:
        return _Reading(text, refusal=refusal, refused_ack=reject_unreadable(text, refusal))
    try:
        head = hl7_read.header(message)
    except Refusal as refusal:
        ack = acknowledge(message, refusal.ack_code, refusal.message, refusal)
        return _Reading(text, message, refusal=refusal, refused_ack=ack)
    return _Reading(text, message, head)


def inbox_of(app: FastAPI, interface_id: UUID) -> Inbox:
    """How `app` applies HL7 messages (its MLLP listener's, and an admin's replay)."""
    state = state_of(app)
    sender = state.invite_sender
    wake = sender.wake if sender is not None else None
    return Inbox(state.engine, state.hub, state.settings, interface_id, wake)
