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

from app.domain.enums import AppointmentKind
from server.janus.client import JanusError, JanusUnreachable
from server.janus.rooms import GroupRooms
from server.models.appointment import Appointment

log = logging.getLogger("clinicdesk.server.group_calls")

_ROOMS_KEY = "group_rooms"
_CLOSING_KEY = "group_rooms_closing"


def attach_rooms(session: Session, rooms: GroupRooms) -> None:
    """Rooms closed by this session's commits live on `rooms` (no call: group calls are off)."""
    session.info[_ROOMS_KEY] = rooms


def close_after_commit(session: Session, appointment: Appointment) -> None:
    """The appointment's rooms close once the transaction commits (group appointments only)."""
    if appointment.kind == AppointmentKind.GROUP and _ROOMS_KEY in session.info:
        session.info.setdefault(_CLOSING_KEY, set()).add(appointment.id)


def _close(rooms: GroupRooms, appointment_ids: set[UUID]) -> None:
    for appointment_id in appointment_ids:
        try:
            rooms.destroy(appointment_id)
        except (JanusError, JanusUnreachable) as error:
            # Not permanent: a Janus that is down has lost them already.
            log.warning("could not close the rooms of appointment %s: %s", appointment_id, error)


def _after_commit(session: OrmSession) -> None:
    closing: set[UUID] | None = session.info.pop(_CLOSING_KEY, None)
    rooms = session.info.get(_ROOMS_KEY)
    if closing and isinstance(rooms, GroupRooms):
        threading.Thread(target=_close, args=(rooms, closing), name="close-rooms").start()


def _after_rollback(session: OrmSession) -> None:
    session.info.pop(_CLOSING_KEY, None)


def install_session_events() -> None:
    """Close rooms after the commits that ended their appointments (idempotent)."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_rollback", _after_rollback)
