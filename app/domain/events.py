"""Domain events that change what the schedule shows without a write by this desktop."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class PatientArrived:
    """The patient opened the waiting room (presence came online)."""

    appointment_id: UUID
    at: datetime


@dataclass(frozen=True, slots=True)
class PatientLeft:
    """The patient closed the waiting room or lost the network."""

    appointment_id: UUID


PresenceEvent = PatientArrived | PatientLeft
