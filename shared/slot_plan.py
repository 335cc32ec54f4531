"""Booking a whole patient list: consecutive slots around a clinician's existing bookings.

Pure: the caller passes the clinician's appointments of the day. Each proposed slot becomes an
ordinary booking (validated, queued and judged by the server on its own).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.enums import AppointmentStatus
from shared.records import Appointment, Patient
from shared.validation import overlaps


@dataclass(frozen=True, slots=True)
class ProposedSlot:
    patient: Patient
    start: datetime
    minutes: int
    #: Why this slot is not simply the one after the previous ("" when it is): the
    #: bookings it was moved past.
    moved_past: tuple[Appointment, ...] = ()
    #: Why it cannot be booked as proposed ("" when it can): past the day's end, in the past.
    conflict: str = ""

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def propose_slots(
    patients: Iterable[Patient],
    first_start: datetime,
    minutes: int,
    booked: Iterable[Appointment],
    day_end: datetime,
    now: datetime,
) -> list[ProposedSlot]:
    """One slot of `minutes` per patient, in order, from `first_start`, each starting when the
    previous ends unless one of the clinician's `booked` appointments is in the way: then it
    starts when that ends. Slots past `day_end` or starting before `now` say so in `conflict`."""
    taken = sorted((a for a in booked if a.status is not AppointmentStatus.CANCELLED),
                   key=lambda a: a.start)
    slots: list[ProposedSlot] = []
    start = first_start
    length = timedelta(minutes=max(minutes, 1))
    for patient in patients:
        moved: list[Appointment] = []
        while True:
            blocking = [a for a in taken if overlaps(start, start + length, a)]
            if not blocking:
                break
            moved.extend(blocking)
            start = max(a.end for a in blocking)
        conflict = ""
        if start < now:
            conflict = "Starts in the past."
        elif start + length > day_end:
            conflict = "Runs past the end of the day."
        slots.append(ProposedSlot(patient, start, minutes, tuple(moved), conflict))
        start += length
    return slots
