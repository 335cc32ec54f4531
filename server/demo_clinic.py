"""The embedded demo's clinic on the server: staff with fixed ids, patients, a day around now,
and the patients who will arrive in the waiting room while the demo runs.

`clinic-desk --demo` runs it in its server process before serving. The desktop knows the demo
clinician's id beforehand (DEMO_CLINICIAN_ID) so it can show the schedule from its local store
while the server is still starting. The clinician's password is new at every start and only
ever travels over the pipe to the desktop that started the server.
"""

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from server.accounts_admin import add_user
from server.models.access import Assignment, Delegation
from server.models.appointment import Appointment, AppointmentParticipant
from server.models.location import Location
from server.models.patient import Patient
from server.models.user import User
from server.security.passwords import Passwords
from server.services import changes, invites, patient_links
from server.services.accounts import find_user
from shared.demo_people import (
    DEMO_CLINICIAN_ID,
    DEMO_CLINICIAN_NAME,
    DEMO_CLINICIAN_USERNAME,
    DEMO_NAMESPACE,
    FIRST_NAMES,
    LAST_NAMES,
    NOTES,
    DemoArrival,
    demo_phone,
)
from shared.enums import AppointmentKind, AppointmentStatus, Role

_NAMESPACE = DEMO_NAMESPACE
_STAFF = [
    (DEMO_CLINICIAN_USERNAME, DEMO_CLINICIAN_NAME, Role.CLINICIAN),
    ("okafor", "Dr Tom Okafor", Role.CLINICIAN),
    ("clerk", "Sam Reyes", Role.CLERK),
]
HOSPITAL = ("Riverside General Hospital", "12 Harbour Road, Riverside RV1 2AB")
#: Bookings of the demo's day: this side of now and the other.
_PAST_NG, _FUTURE_NG, _PAST_OKAFOR, _FUTURE_OKAFOR = 8, 10, 4, 6


@dataclass(frozen=True, slots=True)
class DemoStart:
    password: str
    arrivals: list[DemoArrival]


def _staff(session: Session, passwords: Passwords, now: datetime) -> dict[str, User]:
    users: dict[str, User] = {}
    for username, full_name, role in _STAFF:
        user = find_user(session, username)
        if user is None:
            user = add_user(session, passwords, username, full_name, role,
                            secrets.token_urlsafe(18), now,
                            user_id=uuid.uuid5(_NAMESPACE, username))
        users[username] = user
    return users


def _first_fill(session: Session, passwords: Passwords, now: datetime) -> None:
    users = _staff(session, passwords, now)
    for name in ("ng", "okafor"):
        session.add(Assignment(clerk_id=users["clerk"].id, clinician_id=users[name].id))
    # Dr Ng sees Dr Okafor's clinic too: the demo desktop shows both.
    session.add(Delegation(owner_id=users["okafor"].id, delegate_id=users["ng"].id))
    session.add(Location(id=uuid.uuid5(_NAMESPACE, "hospital"), hospital_name=HOSPITAL[0],
                         address=HOSPITAL[1], time_zone="UTC"))
    rng = random.Random(7)
    names = sorted({f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES})
    rng.shuffle(names)
    for number, name in enumerate(names[:60]):
        session.add(Patient(
            id=uuid.uuid5(_NAMESPACE, f"patient-{number}"), name=name,
            date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 80)),
            mrn=f"RGH{100000 + number * 37:06d}",
            email=f"{name.split()[0].lower()}.{number}@example.org",
            phone=demo_phone(number), created_at=now, updated_at=now,
        ))
        changes.record(session, "patient", uuid.uuid5(_NAMESPACE, f"patient-{number}"),
                       [None], now)
    session.flush()


class _Booker:
    """Adds the demo's appointments, each with its change-log entry and its invite."""

    def __init__(self, session: Session, now: datetime, rng: random.Random) -> None:
        self.session = session
        self.now = now
        self.rng = rng
        self.users = {u.username: u for u in session.exec(select(User))}
        self.location_id = uuid.uuid5(_NAMESPACE, "hospital")
        self.patients = list(session.exec(select(Patient.id).order_by(col(Patient.mrn))))
        rng.shuffle(self.patients)
        self.next_patient = 0

    def book(self, clinician: str, start: datetime, minutes: int, kind: AppointmentKind,
             status: AppointmentStatus, notes: str = "") -> Appointment:
        patient_id = self.patients[self.next_patient % len(self.patients)]
        self.next_patient += 1
        appointment = Appointment(
            patient_id=patient_id, clinician_id=self.users[clinician].id,
            location_id=self.location_id, start=start, duration_minutes=minutes, kind=kind,
            status=status, notes=notes,
            cancel_reason="Patient request" if status is AppointmentStatus.CANCELLED else "",
            created_by_id=self.users["clerk"].id, created_at=self.now, updated_at=self.now,
        )
        self.session.add(appointment)
        self.session.flush()
        if kind is AppointmentKind.GROUP:
            for position in range(6):
                self.session.add(AppointmentParticipant(
                    appointment_id=appointment.id, position=position,
                    name=f"{FIRST_NAMES[position + 3]} {LAST_NAMES[position + 5]}",
                    email=f"group{position}@example.org"))
            self.session.flush()
        if status is AppointmentStatus.SCHEDULED and start > self.now - timedelta(hours=1):
            invites.queue(self.session, appointment, invites.BOOKED, self.now)
        changes.record(self.session, "appointment", appointment.id, [appointment.clinician_id],
                       self.now)
        return appointment

    def day(self, base: datetime) -> None:
        """The clinic around now, leaving room for the arrivals (see `arrivals`)."""
        for clinician, step, first, past, future in (
            ("ng", 15, base - timedelta(minutes=10), _PAST_NG, _FUTURE_NG),
            ("okafor", 30, base - timedelta(minutes=25), _PAST_OKAFOR, _FUTURE_OKAFOR),
        ):
            for slot in range(past, 0, -1):
                start = first - timedelta(minutes=step * slot)
                status = (AppointmentStatus.NO_SHOW if slot == 3 else
                          AppointmentStatus.CANCELLED if slot == 5 else AppointmentStatus.TAKEN)
                kind = AppointmentKind.PHONE if slot % 4 == 1 else AppointmentKind.VIDEO
                self.book(clinician, start, step, kind, status, self.rng.choice(NOTES))
            later = first + timedelta(minutes=25 if clinician == "ng" else 60)
            for slot in range(future):
                start = later + timedelta(minutes=step * slot)
                kind = AppointmentKind.PHONE if slot % 4 == 1 else AppointmentKind.VIDEO
                notes = self.rng.choice(NOTES)
                if clinician == "ng" and slot == 4:
                    kind, notes = AppointmentKind.GROUP, "Diabetes education group"
                self.book(clinician, start, step, kind, AppointmentStatus.SCHEDULED, notes)

    def arrivals(self, base: datetime) -> list[tuple[Appointment, float, float | None]]:
        """Video appointments for the patients the demo plays: two waiting at once, one who
        arrives a minute in, one who comes and leaves again."""
        video, scheduled = AppointmentKind.VIDEO, AppointmentStatus.SCHEDULED
        plan = [
            ("ng", base - timedelta(minutes=10), 15, 0.0, None),
            ("okafor", base - timedelta(minutes=25), 30, 0.0, None),
            ("okafor", base + timedelta(minutes=5), 30, 60.0, None),
            ("ng", base + timedelta(minutes=5), 10, 20.0, 100.0),
        ]
        return [(self.book(who, start, minutes, video, scheduled), enter, leave)
                for who, start, minutes, enter, leave in plan]


def prepare(
    session: Session, passwords: Passwords, now: datetime, public_url: str
) -> DemoStart:
    """Fill an empty database (or top up a kept one) and get the demo's start ready: the day's
    clinic if none is booked around now, this start's arriving patients and their links, and a
    fresh password for the demo clinician."""
    if session.exec(select(func.count()).select_from(User)).one() == 0:
        _first_fill(session, passwords, now)
    booker = _Booker(session, now, random.Random(now.toordinal()))
    base = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    near = session.exec(
        select(func.count()).select_from(Appointment)
        .where(col(Appointment.created_by_id) == booker.users["clerk"].id)
        .where(col(Appointment.start) >= now - timedelta(hours=4))
        .where(col(Appointment.start) <= now + timedelta(hours=4))
    ).one()
    if near == 0:
        booker.day(base)
    arrivals: list[DemoArrival] = []
    for appointment, enter, leave in booker.arrivals(base):
        _, token = patient_links.mint(session, appointment.id, 0, "demo", now)
        patient = session.get(Patient, appointment.patient_id)
        assert patient is not None
        link = f"{public_url.rstrip('/')}/join#{token}"
        arrivals.append(DemoArrival(appointment.id, patient.name, link, enter, leave))
    password = secrets.token_urlsafe(24)
    clinician = session.get(User, DEMO_CLINICIAN_ID)
    assert clinician is not None
    clinician.password_hash = passwords.hash(password)
    session.add(clinician)
    return DemoStart(password, arrivals)
