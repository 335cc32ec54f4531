"""Domain events that change what the schedule shows without a write by this desktop."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.realtime_protocol import PresenceEvent, PresenceState


@dataclass(frozen=True, slots=True)
class PatientArrived:
    """The patient opened the waiting room (presence came online); again, with the same `at`,
    when the number of a group's people there changed."""

    appointment_id: UUID
    at: datetime
    #: How many of the appointment's people are there (a group's participants one each).
    people: int = 1


@dataclass(frozen=True, slots=True)
class PatientLeft:
    """The patient closed the waiting room or lost the network."""

    appointment_id: UUID


WaitingRoomEvent = PatientArrived | PatientLeft


def waiting_room_event(wire: PresenceEvent) -> WaitingRoomEvent:
    """The domain event a realtime "presence" message stands for (the one conversion)."""
    if wire.state is PresenceState.ENTERED:
        return PatientArrived(wire.appointment_id, wire.at, max(1, wire.people))
    return PatientLeft(wire.appointment_id)
