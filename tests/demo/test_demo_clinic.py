"""The embedded demo's clinic on a real SQLite file: the day around now, the arrivals, a fresh
password each start; a second start keeps what was booked, --reset starts afresh."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from server.database import create_db_engine
from server.demo_clinic import prepare
from server.embedded import DATABASE, reset
from server.models.appointment import Appointment
from server.models.user import User
from server.schema import upgrade
from server.security.passwords import Passwords
from shared.demo_people import DEMO_CLINICIAN_ID
from shared.enums import AppointmentKind, AppointmentStatus

NOW = datetime(2026, 11, 26, 10, 7, tzinfo=UTC)
PASSWORDS = Passwords(1, 8, 1)


def _start(folder: Path, now: datetime = NOW) -> tuple[str, list[Appointment], list[str]]:
    engine = create_db_engine(f"sqlite:///{folder / DATABASE}")
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        start = prepare(session, PASSWORDS, now, "http://127.0.0.1:9")
        session.commit()
        booked = list(session.exec(select(Appointment).order_by(col(Appointment.start))))
        clinician = session.get(User, DEMO_CLINICIAN_ID)
        assert clinician is not None
        assert PASSWORDS.verify(clinician.password_hash, start.password)
        links = [arrival.link for arrival in start.arrivals]
        arrivals = [session.get(Appointment, a.appointment_id) for a in start.arrivals]
    engine.dispose()
    assert all(a is not None for a in arrivals)
    return start.password, [a for a in arrivals if a is not None], links + [
        str(a.id) for a in booked]


def test_the_demo_day_has_patients_to_arrive_and_keeps_bookings_across_starts(
    tmp_path: Path
) -> None:
    password, arrivals, first = _start(tmp_path)
    # Four simulated patients: two waiting at once, one a minute in, one who leaves again.
    assert len(arrivals) == 4
    assert all(a.kind == AppointmentKind.VIDEO and a.status == AppointmentStatus.SCHEDULED
               for a in arrivals)
    # Each turns green on arrival: it starts within 5 minutes from now (or has started), and
    # has not ended.
    assert all(a.start <= NOW + timedelta(minutes=5)
               and a.start + timedelta(minutes=a.duration_minutes) > NOW for a in arrivals)
    links = first[:4]
    assert all(link.startswith("http://127.0.0.1:9/join#") for link in links)
    booked_before = set(first[4:])
    assert len(booked_before) > 25

    again, arrivals_again, second = _start(tmp_path, NOW + timedelta(minutes=20))
    assert again != password  # a fresh password each start
    assert booked_before <= set(second[4:])  # nothing booked earlier is lost
    assert {a.id for a in arrivals_again}.isdisjoint({a.id for a in arrivals})

    reset(tmp_path)
    assert not (tmp_path / DATABASE).exists()
    _, _, fresh = _start(tmp_path)
    assert booked_before.isdisjoint(fresh[4:])
