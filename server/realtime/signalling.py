"""Call signalling relay: a desktop's offer, answer, ICE candidate or hangup for an appointment.

It goes to the other parties of the appointment: the other desktops allowed to see it, and the
patient's waiting-room connections (Hub.connect_patient, for the page of a later issue).
"""

import json

from sqlalchemy import Engine
from sqlmodel import Session

from app.domain.realtime_protocol import MAX_SIGNAL_PAYLOAD, ErrorEvent, SignalEvent, SignalMessage
from server.realtime import notify
from server.realtime.delivery import Delivery
from server.realtime.hub import Connection, Hub
from server.services.audience import appointment_audience


def payload_too_large(message: SignalMessage) -> bool:
    size = len(json.dumps(message.payload, separators=(",", ":")).encode())
    return size > MAX_SIGNAL_PAYLOAD


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
