"""Closing a group appointment's Janus rooms once its cancellation (or no-show) is committed.

The rooms are destroyed in a thread after the commit: a slow or missing Janus never holds up
the booking, and a rolled-back cancellation closes nothing. Everyone still in the rooms is sent
away by Janus; their credentials stopped working with the appointment's links.
"""

import logging
import threading
from uuid import UUID

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from server.janus.client import JanusError, JanusUnreachable
from server.janus.rooms import GroupRooms
from server.models.appointment import Appointment
from server.session_effects import effects_of
from shared.enums import AppointmentKind

log = logging.getLogger("clinicdesk.server.group_calls")


def close_after_commit(session: Session, appointment: Appointment) -> None:
    """The appointment's rooms close once the transaction commits (group appointments only;
    nothing when the session was made without the rooms: group calls are off)."""
    effects = effects_of(session)
    if appointment.kind == AppointmentKind.GROUP and effects and effects.rooms is not None:
        effects.closing_rooms.add(appointment.id)


def _close(rooms: GroupRooms, appointment_ids: set[UUID]) -> None:
    for appointment_id in appointment_ids:
        try:
            rooms.destroy(appointment_id)
        except (JanusError, JanusUnreachable) as error:
            # Not permanent: a Janus that is down has lost them already.
            log.warning("could not close the rooms of appointment %s: %s", appointment_id, error)


def _after_commit(session: OrmSession) -> None:
    effects = effects_of(session)
    if effects is None or not effects.closing_rooms:
        return
    closing, effects.closing_rooms = effects.closing_rooms, set()
    if effects.rooms is not None:
        threading.Thread(target=_close, args=(effects.rooms, closing), name="close-rooms").start()


def _after_rollback(session: OrmSession) -> None:
    effects = effects_of(session)
    if effects is not None:
        effects.closing_rooms = set()


def install_session_events() -> None:
    """Close rooms after the commits that ended their appointments (idempotent)."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_rollback", _after_rollback)
