"""`seed-demo`: a small clinic to try the server and the desktop against."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from server.accounts_admin import add_user
from server.models.access import Assignment, Delegation
from server.models.appointment import Appointment
from server.models.location import Location
from server.models.patient import Patient
from server.models.user import User
from server.security.passwords import Passwords
from server.services import changes
from shared.enums import AppointmentKind, AppointmentStatus, Role


class AlreadySeeded(Exception):
    """The database has users already; the demo is only put into an empty one."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    password: str


_STAFF = [
    ("admin", "Alex Admin", Role.ADMIN),
    ("clerk", "Sam Clerk", Role.CLERK),
    ("ng", "Dr Ng", Role.CLINICIAN),
    ("okafor", "Dr Okafor", Role.CLINICIAN),
]
_PATIENTS = [
    ("Ada Lovelace", "MRN1001", "ada@example.org", "+44 20 7946 0001"),
    ("Alan Turing", "MRN1002", "alan@example.org", "+44 20 7946 0002"),
    ("Grace Hopper", "MRN1003", "grace@example.org", "+44 20 7946 0003"),
    ("Mary Seacole", "MRN1004", "mary@example.org", "+44 20 7946 0004"),
]


def seed_demo(session: Session, passwords: Passwords, now: datetime) -> list[DemoAccount]:
    """Staff with random passwords, assignments, a location, patients and tomorrow's clinic."""
    if session.exec(select(User)).first() is not None:
        raise AlreadySeeded("the database has users already; seed-demo only fills an empty one")
    accounts: list[DemoAccount] = []
    users: dict[str, User] = {}
    for username, full_name, role in _STAFF:
        password = secrets.token_urlsafe(12)
        users[username] = add_user(session, passwords, username, full_name, role, password, now)
        accounts.append(DemoAccount(username, role, password))
    for name in ("ng", "okafor"):
        session.add(Assignment(clerk_id=users["clerk"].id, clinician_id=users[name].id))
    session.add(Delegation(owner_id=users["okafor"].id, delegate_id=users["ng"].id))
    location = Location(
        hospital_name="St Mary's Hospital",
        address="Praed Street, London W2 1NY",
        time_zone="Europe/London",
    )
    session.add(location)
    patients = [
        Patient(name=name, mrn=mrn, email=email, phone=phone, created_at=now, updated_at=now)
        for name, mrn, email, phone in _PATIENTS
    ]
    session.add_all(patients)
    session.flush()
    day = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    for number, patient in enumerate(patients):
        clinician = users["ng"] if number % 2 == 0 else users["okafor"]
        session.add(
            Appointment(
                patient_id=patient.id,
                clinician_id=clinician.id,
                location_id=location.id,
                start=day + timedelta(minutes=30 * number),
                duration_minutes=20,
                kind=AppointmentKind.PHONE if number == 3 else AppointmentKind.VIDEO,
                status=AppointmentStatus.SCHEDULED,
                created_by_id=users["clerk"].id,
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    for appointment in session.exec(select(Appointment)):
        changes.record(session, "appointment", appointment.id, [appointment.clinician_id], now)
    for patient in patients:
        changes.record(session, "patient", patient.id, [None], now)
    return accounts
