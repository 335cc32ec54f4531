"""Call signalling relay: a desktop's offer, answer, ICE candidate or hangup for an appointment.

It goes to the other parties of the appointment: the other desktops allowed to see it, and the
patient's waiting-room connections (Hub.connect_patient). The patient's page answers the same
way: its answer, candidates and hangup go to the desktops allowed to see the appointment.
"""

import json
from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session

from server.models.user import User
from server.realtime import notify
from server.realtime.delivery import Delivery
from server.realtime.hub import Connection, Hub
from server.realtime.patient_protocol import PatientSignal
from server.services.audience import appointment_audience
from shared.realtime_protocol import (
    MAX_SIGNAL_PAYLOAD,
    ErrorEvent,
    SignalEvent,
    SignalKind,
    SignalMessage,
)


def payload_too_large(message: SignalMessage) -> bool:
    size = len(json.dumps(message.payload, separators=(",", ":")).encode())
    return size > MAX_SIGNAL_PAYLOAD


def _taken_message(engine: Engine, user_id: UUID) -> str:
    with Session(engine) as session:
        user = session.get(User, user_id)
        name = user.full_name if user is not None else "Another clinician"
        session.rollback()
    return f"{name} has already started this call."


def relay_from_desktop(
    engine: Engine, hub: Hub, sender: Connection, message: SignalMessage
) -> ErrorEvent | None:
    """Relay `message` (runs in a worker thread: one query); an error event when refused."""
    with Session(engine) as session:
        audience = appointment_audience(session, message.appointment_id)
        session.rollback()
    if audience is None:
        return ErrorEvent(code="not_found", message="Appointment not found.", refused="signal")
    if sender.user_id not in audience:
        return ErrorEvent(
            code="forbidden", message="You may not see this appointment.", refused="signal"
        )
    if message.kind is SignalKind.OFFER:
        assert sender.user_id is not None
        taken_by = hub.call_owners.claim(message.appointment_id, sender.id, sender.user_id)
        if taken_by is not None:
            return ErrorEvent(code="call_taken", message=_taken_message(engine, taken_by),
                              refused="signal")
    elif message.kind is SignalKind.HANGUP:
        hub.call_owners.release(message.appointment_id, sender.id)
    event = SignalEvent(
        appointment_id=message.appointment_id,
        kind=message.kind,
        payload=message.payload,
        sender="desktop",
        sender_user_id=sender.user_id,
    )
    delivery = Delivery(
        event.model_dump_json(),
        users=audience,
        patient_of=message.appointment_id,
        skip=sender.id,
    )
    notify.send_now(engine, hub, delivery)
    return None


def relay_from_patient(
    engine: Engine, hub: Hub, appointment_id: UUID, message: PatientSignal
) -> ErrorEvent | None:
    """Relay the patient page's `message` to the appointment's desktops (a worker thread)."""
    size = len(json.dumps(message.payload, separators=(",", ":")).encode())
    if size > MAX_SIGNAL_PAYLOAD:
        return ErrorEvent(
            code="too_large", message="The signalling payload is too large.", refused="signal"
        )
    with Session(engine) as session:
        audience = appointment_audience(session, appointment_id)
        session.rollback()
    if audience is None:
        return ErrorEvent(code="not_found", message="Appointment not found.", refused="signal")
    if message.kind is SignalKind.HANGUP:
        hub.call_owners.release(appointment_id)
    event = SignalEvent(
        appointment_id=appointment_id,
        kind=message.kind,
        payload=message.payload,
        sender="patient",
        sender_user_id=None,
    )
    # Only to the desktops: another page of the appointment (a group's participant) is no party.
    notify.send_now(engine, hub, Delivery(event.model_dump_json(), users=audience))
    return None
