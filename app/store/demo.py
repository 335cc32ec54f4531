"""The demo clinic behind `clinic-desk --demo`: two clinicians, a clerk, ~30 appointments today.

Seeded into its own store file, around the current time so the first run shows a live clinic:
calls already taken this morning, a no-show, a cancellation, patients waiting now, and the rest
of the day booked.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, func, select

from app.store import directory
from app.store.tables import AppointmentRow, ParticipantRow, PatientRow, StaffRow
from shared.demo_people import FIRST_NAMES as _FIRST
from shared.demo_people import LAST_NAMES as _LAST
from shared.demo_people import NOTES as _NOTES
from shared.demo_people import demo_phone
from shared.enums import AppointmentKind, AppointmentStatus, Role
from shared.records import Location, StaffMember

_NAMESPACE = uuid.UUID("6f1c2b1e-8c1a-4f5e-9a57-0c6d3d1f2a10")

CLINICIAN = StaffMember(uuid.uuid5(_NAMESPACE, "clinician"), "Dr Amara Ng", Role.CLINICIAN)
SECOND_CLINICIAN = StaffMember(uuid.uuid5(_NAMESPACE, "okafor"), "Dr Tom Okafor", Role.CLINICIAN)
CLERK = StaffMember(uuid.uuid5(_NAMESPACE, "clerk"), "Sam Reyes", Role.CLERK)
HOSPITAL = Location(
    uuid.uuid5(_NAMESPACE, "hospital"),
    "Riverside General Hospital",
    "12 Harbour Road, Riverside RV1 2AB",
)

@dataclass(frozen=True, slots=True)
class DemoArrival:
    """A demo patient who is 'in the waiting room' (no server in the demo to say so)."""

    appointment_id: uuid.UUID
    at: datetime


def seed_demo(session: Session, now: datetime, seed: int = 7) -> list[DemoArrival]:
    """Fill an empty demo store (staff, hospital, patients) and book today if it has no bookings.

    Returns the patients to show as waiting. Running it again on the same day changes nothing.
    """
    if session.exec(select(func.count()).select_from(StaffRow)).one() == 0:
        for member in (CLINICIAN, SECOND_CLINICIAN, CLERK):
            directory.add_staff(session, member)
        directory.add_location(session, HOSPITAL)
        _add_patients(session, random.Random(seed))
        session.flush()

    local_now = now.astimezone()
    day_start = datetime.combine(local_now.date(), time(0, 0)).astimezone()
    day_end = day_start + timedelta(days=1)
    booked = session.exec(
        select(func.count())
        .select_from(AppointmentRow)
        .where(col(AppointmentRow.start) >= day_start, col(AppointmentRow.start) < day_end)
    ).one()
    if booked:
        return []
    return _book_day(session, now, local_now.date(), random.Random(seed + local_now.toordinal()))


def _add_patients(session: Session, rng: random.Random) -> None:
    names = sorted({f"{first} {last}" for first in _FIRST for last in _LAST})
    rng.shuffle(names)
    for number, name in enumerate(names[:60]):
        first = name.split()[0].lower()
        session.add(
            PatientRow(
                id=uuid.uuid5(_NAMESPACE, f"patient-{number}"),
                name=name,
                date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 80)),
                mrn=f"RGH{100000 + number * 37:06d}",
                email=f"{first}.{number}@example.org",
                phone=demo_phone(number),
            )
        )


def _book_day(
    session: Session, now: datetime, day: date, rng: random.Random
) -> list[DemoArrival]:
    patients = list(session.exec(select(PatientRow.id).order_by(col(PatientRow.mrn))))
    rng.shuffle(patients)
    day_start = datetime.combine(day, time(0, 0)).astimezone()
    # A clinic day around the current time: 10 hours, from 3 hours before now, inside today.
    anchor = now.astimezone().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    anchor = min(max(anchor, day_start), day_start + timedelta(hours=14))
    plan = [(CLINICIAN, 20, 20), (SECOND_CLINICIAN, 30, 10)]
    arrivals: list[DemoArrival] = []
    made = 0
    for clinician, step, count in plan:
        nearest: tuple[timedelta, uuid.UUID, datetime] | None = None
        for slot in range(count):
            start = anchor + timedelta(minutes=slot * step)
            kind = AppointmentKind.PHONE if slot % 4 == 1 else AppointmentKind.VIDEO
            if clinician is CLINICIAN and slot == 12:
                kind = AppointmentKind.GROUP
            status = AppointmentStatus.SCHEDULED
            if start + timedelta(minutes=step) <= now:
                status = AppointmentStatus.NO_SHOW if slot == 2 else AppointmentStatus.TAKEN
            if slot == 7:
                status = AppointmentStatus.CANCELLED
            appointment_id = uuid.uuid4()
            session.add(
                AppointmentRow(
                    id=appointment_id,
                    patient_id=patients[made % len(patients)],
                    clinician_id=clinician.id,
                    location_id=HOSPITAL.id,
                    start=start.astimezone(now.tzinfo),
                    duration_minutes=step,
                    kind=kind.value,
                    status=status.value,
                    notes=(
                        "Diabetes education group"
                        if kind is AppointmentKind.GROUP
                        else rng.choice(_NOTES)
                    ),
                    cancel_reason=(
                        "Patient request" if status is AppointmentStatus.CANCELLED else ""
                    ),
                    updated_at=now,
                )
            )
            if kind is AppointmentKind.GROUP:
                for position in range(6):
                    session.add(
                        ParticipantRow(
                            appointment_id=appointment_id,
                            position=position,
                            name=f"{_FIRST[position + 3]} {_LAST[position + 5]}",
                            email=f"group{position}@example.org",
                        )
                    )
            made += 1
            if status is AppointmentStatus.SCHEDULED and start <= now + timedelta(minutes=5):
                distance = abs(start - now)
                if nearest is None or distance < nearest[0]:
                    nearest = (distance, appointment_id, start)
        if nearest is not None:
            _, appointment_id, start = nearest
            waited = timedelta(minutes=4 + len(arrivals) * 3, seconds=17)
            arrivals.append(DemoArrival(appointment_id, min(start, now) - waited))
    return arrivals
