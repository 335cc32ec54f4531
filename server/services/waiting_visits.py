"""Waiting-room visits in the database: a patient's arrival outlives the server process.

The waiting room (server/realtime/waiting_room.py) asks `arrive` when the first page of an
appointment connects: a visit heard from within `resume` is the same visit (the server restarted,
or another server process had the page), so its first arrival is kept; anything older starts
anew. Each call is one short transaction, run in a worker thread by StoredVisits. A new visit of
an appointment the hospital's system booked queues its "arrived" message (hl7_outbound.py).
"""

import asyncio
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.integration import hl7_outbound
from server.integration.hl7_outbound_sender import OutboundSender
from server.models.appointment import Appointment
from server.models.waiting import WaitingVisit
from server.session_effects import ServerSession
from shared.enums import AppointmentStatus


def arrive_in(session: Session, appointment_id: UUID, now: datetime, resume: timedelta) -> datetime:
    """`arrive` within the caller's transaction (the shared waiting room holds the room's lock)."""
    visit = session.get(WaitingVisit, appointment_id)
    if visit is None:
        visit = WaitingVisit(appointment_id=appointment_id, arrived_at=now, seen_at=now)
        session.add(visit)
        _tell_hospital(session, appointment_id, now)
    elif visit.seen_at < now - resume:
        visit.arrived_at = now
        _tell_hospital(session, appointment_id, now)
    visit.seen_at = max(visit.seen_at, now)
    return visit.arrived_at


def arrive(engine: Engine, appointment_id: UUID, now: datetime, resume: timedelta,
           outbound: OutboundSender | None = None) -> datetime:
    """The arrival of the visit a page of the appointment joins at `now` (kept or new)."""
    for _attempt in range(2):
        with ServerSession(engine, hl7_outbound=outbound) as session:
            arrived = arrive_in(session, appointment_id, now, resume)
            try:
                session.commit()
            except IntegrityError:
                # Another server process stored the same visit meanwhile: read theirs.
                session.rollback()
                continue
            return arrived
    return now


def _tell_hospital(session: Session, appointment_id: UUID, now: datetime) -> None:
    """Queue the "arrived" message of a new visit, when the hospital booked the appointment."""
    row = session.get(Appointment, appointment_id)
    if row is not None and row.status == AppointmentStatus.SCHEDULED:
        hl7_outbound.queue_status(session, row, "waiting", now)


def heard_in(session: Session, appointment_id: UUID, arrived_at: datetime, now: datetime) -> None:
    """`heard` within the caller's transaction."""
    visit = session.get(WaitingVisit, appointment_id)
    if visit is None:
        session.add(WaitingVisit(appointment_id=appointment_id, arrived_at=arrived_at, seen_at=now))
    else:
        visit.seen_at = max(visit.seen_at, now)


def heard(engine: Engine, appointment_id: UUID, arrived_at: datetime, now: datetime) -> None:
    """A page of the visit is still connected at `now` (stores the visit if it went missing)."""
    with Session(engine) as session:
        visit = session.get(WaitingVisit, appointment_id)
        if visit is None:
            session.add(
                WaitingVisit(appointment_id=appointment_id, arrived_at=arrived_at, seen_at=now)
            )
        else:
            visit.seen_at = max(visit.seen_at, now)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()


def leave_in(session: Session, appointment_id: UUID) -> None:
    """`leave` within the caller's transaction."""
    visit = session.get(WaitingVisit, appointment_id)
    if visit is not None:
        session.delete(visit)


def leave(engine: Engine, appointment_id: UUID) -> None:
    """The patient left the waiting room: the next arrival is a new visit."""
    with Session(engine) as session:
        leave_in(session, appointment_id)
        session.commit()


class StoredVisits:
    """The waiting room's view of the table: the same calls, awaited off the event loop."""

    def __init__(self, engine: Engine, resume: timedelta,
                 outbound: OutboundSender | None = None) -> None:
        self._engine = engine
        self._resume = resume
        self._outbound = outbound

    async def arrive(self, appointment_id: UUID, now: datetime) -> datetime:
        return await asyncio.to_thread(
            arrive, self._engine, appointment_id, now, self._resume, self._outbound
        )

    async def heard(self, appointment_id: UUID, arrived_at: datetime, now: datetime) -> None:
        await asyncio.to_thread(heard, self._engine, appointment_id, arrived_at, now)

    async def leave(self, appointment_id: UUID) -> None:
        await asyncio.to_thread(leave, self._engine, appointment_id)
