"""Consecutive slots for a list around the clinician's existing bookings."""

import uuid
from datetime import timedelta

from shared.enums import AppointmentKind, AppointmentStatus
from shared.records import Appointment, Patient
from shared.slot_plan import propose_slots
from tests.conftest import DR_NG, NOW

NINE = NOW + timedelta(hours=1)
PATIENTS = [Patient(uuid.UUID(int=n), f"Patient {n}") for n in range(1, 5)]


def booking(minutes_after_nine: int, length: int, status: AppointmentStatus =
            AppointmentStatus.SCHEDULED) -> Appointment:
    return Appointment(uuid.uuid4(), Patient(uuid.uuid4(), "Booked"), DR_NG,
                       NINE + timedelta(minutes=minutes_after_nine), length,
                       AppointmentKind.VIDEO, status)


def test_slots_follow_each_other_and_step_around_bookings() -> None:
    in_the_way = booking(25, 30)  # 09:25-09:55
    cancelled = booking(60, 20, AppointmentStatus.CANCELLED)  # frees its time
    slots = propose_slots(PATIENTS, NINE, 15, [in_the_way, cancelled],
                          NINE + timedelta(hours=8), NOW)
    starts = [(s.start - NINE) // timedelta(minutes=1) for s in slots]
    assert starts == [0, 15 + 40, 70, 85]  # 09:00, (09:15 collides) 09:55, 10:10, 10:25
    assert slots[1].moved_past == (in_the_way,)
    assert all(s.conflict == "" for s in slots)


def test_slots_past_the_day_or_in_the_past_say_so() -> None:
    slots = propose_slots(PATIENTS[:2], NOW - timedelta(minutes=30), 20, [],
                          NOW, NOW - timedelta(hours=1))
    assert [s.conflict for s in slots] == ["", "Runs past the end of the day."]
    late = propose_slots(PATIENTS[:1], NOW - timedelta(minutes=5), 20, [], NINE, NOW)
    assert late[0].conflict == "Starts in the past."
