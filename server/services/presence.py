"""Waiting-room presence: a patient entered or left, told to the desktops that see the appointment.

The patient's waiting-room page (server/realtime/waiting_room.py) calls publish_committed; the
tests and the benchmark call publish_presence. The event is serialized once and reaches every
server process (notify.send).
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session

from server.errors import not_found
from server.realtime import notify
from server.realtime.delivery import Delivery
from server.realtime.hub import Hub
from server.services.audience import appointment_audience
from server.session_effects import ServerSession
from shared.realtime_protocol import PresenceEvent, PresenceState


def publish_presence(
    session: Session, appointment_id: UUID, state: PresenceState, at: datetime, people: int = 1
) -> None:
    """Announce the patient's presence once the session commits (the caller commits); `people`
    of the appointment are there (a group's participants count one each)."""
    audience = appointment_audience(session, appointment_id)
    if audience is None:
        raise not_found("Appointment")
    people = 0 if state is PresenceState.LEFT else people
    event = PresenceEvent(appointment_id=appointment_id, state=state, at=at, people=people)
    notify.send(session, Delivery(event.model_dump_json(), users=audience))


def publish_committed(
    engine: Engine,
    hub: Hub,
    appointment_id: UUID,
    state: PresenceState,
    at: datetime,
    people: int = 1,
) -> None:
    """Publish and commit in a session of its own (the waiting-room page; a worker thread)."""
    with ServerSession(engine, hub=hub) as session:
        publish_presence(session, appointment_id, state, at, people)
        session.commit()
