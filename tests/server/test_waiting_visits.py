"""Waiting-room visits in the database: kept across a restart, new after a long silence."""

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from server.models.waiting import WaitingVisit
from server.services.waiting_visits import arrive, heard, leave
from tests.server.conftest import NOW, Clinic

RESUME = timedelta(minutes=5)


def test_a_visit_heard_recently_keeps_its_arrival_and_a_silent_one_starts_anew(
    engine: Engine, clinic: Clinic
) -> None:
    appointment = clinic.ids["ng_appointment"]
    assert arrive(engine, appointment, NOW, RESUME) == NOW
    # Heard every minute for ten minutes, then the server restarted: the same visit.
    for minute in range(1, 11):
        heard(engine, appointment, NOW, NOW + timedelta(minutes=minute))
    assert arrive(engine, appointment, NOW + timedelta(minutes=12), RESUME) == NOW
    # Nothing heard for longer than RESUME (the page was closed while the server was down).
    later = NOW + timedelta(minutes=12) + RESUME + timedelta(seconds=1)
    assert arrive(engine, appointment, later, RESUME) == later

    leave(engine, appointment)
    with Session(engine) as session:
        assert session.get(WaitingVisit, appointment) is None
    # A page still connected to another server process puts the visit back.
    heard(engine, appointment, later, later + timedelta(minutes=1))
    assert arrive(engine, appointment, later + timedelta(minutes=2), RESUME) == later
