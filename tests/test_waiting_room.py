"""The waiting room on the desktop: one owner of arrivals and of the waiting-time tick
(app/services/waiting_room_service.py), and the one conversion from the wire."""

import uuid
from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.services.waiting_room_service import WaitingRoomService
from app.views.schedule_columns import Column, Role
from app.views.schedule_model import ScheduleModel
from shared.clock import FixedClock
from shared.enums import AppointmentKind, DisplayState
from shared.events import PatientArrived, PatientLeft, waiting_room_event
from shared.realtime_protocol import PresenceEvent, PresenceState
from shared.records import Participant
from tests.conftest import NOW
from tests.test_schedule_model import DAY_END, DAY_START, appointment, day_of_appointments


def test_a_presence_message_becomes_one_domain_event() -> None:
    appointment_id = uuid.uuid4()
    entered = PresenceEvent(appointment_id=appointment_id, state=PresenceState.ENTERED, at=NOW)
    left = PresenceEvent(appointment_id=appointment_id, state=PresenceState.LEFT, at=NOW)
    assert waiting_room_event(entered) == PatientArrived(appointment_id, NOW)
    assert waiting_room_event(left) == PatientLeft(appointment_id)


def test_a_reconnect_keeps_the_first_arrival() -> None:
    room = WaitingRoomService()
    appointment_id = uuid.uuid4()
    changes: list[object] = []
    room.arrivalChanged.connect(lambda key, at: changes.append((key, at)))
    room.apply(PatientArrived(appointment_id, NOW))
    room.apply(PatientArrived(appointment_id, NOW + timedelta(minutes=3)))
    assert room.arrived_at(appointment_id) == NOW and changes == [(appointment_id, NOW)]
    room.clear()
    assert room.arrived_at(appointment_id) is None and changes[-1] == (appointment_id, None)


def test_the_model_asks_the_waiting_room_and_counts_on_its_tick(
    qtbot: QtBot, clock: FixedClock
) -> None:
    """A model made after the patient arrived shows them waiting (it keeps no copy), and the
    waiting room's own tick counts the time on: nobody else drives the model's clock."""
    room = WaitingRoomService()
    rows = day_of_appointments()
    room.apply(PatientArrived(rows[1].id, NOW - timedelta(seconds=30)))
    model = ScheduleModel(clock, room)
    model.set_range(DAY_START, DAY_END, rows, show_date=False)
    waiting = model.index(1, Column.WAITING)
    assert model.index(1, Column.STATUS).data(Role.STATE) == DisplayState.WAITING
    assert waiting.data() == "00:30"

    clock.advance(2)
    assert not room.ticking
    room.start()
    try:
        with qtbot.waitSignal(model.dataChanged, timeout=5000):
            pass
    finally:
        room.stop()
    assert waiting.data() == "00:32"

    room.apply(PatientLeft(rows[1].id))
    assert model.index(1, Column.STATUS).data(Role.STATE) == DisplayState.SCHEDULED
    assert waiting.data() == ""


def test_a_group_row_counts_its_people_and_turns_green_with_the_first(
    qtbot: QtBot, clock: FixedClock
) -> None:
    """A group of the patient and seven participants: "1 of 8 waiting" once the first is in the
    green window, the count follows arrivals and leavings, repainting only that row."""
    room = WaitingRoomService()
    guests = tuple(Participant(f"Guest {n}", f"g{n}@example.org") for n in range(1, 8))
    group = appointment(3, "Gia Moss", kind=AppointmentKind.GROUP, participants=guests)
    model = ScheduleModel(clock, room)
    model.set_range(DAY_START, DAY_END, [*day_of_appointments(), group], show_date=False)
    row = model.row_of(group.id)
    assert row is not None
    status = model.index(row, Column.STATUS)
    assert status.data(Role.STATE) == DisplayState.SCHEDULED

    with qtbot.waitSignal(model.dataChanged) as painted:
        room.apply(PatientArrived(group.id, NOW, people=1))
    assert painted.args[0].row() == painted.args[1].row() == row
    assert status.data(Role.STATE) == DisplayState.WAITING
    assert status.data() == "1 of 8 waiting"

    # Two more come: the same arrival time (the first's), a new count.
    with qtbot.waitSignal(model.dataChanged):
        room.apply(PatientArrived(group.id, NOW, people=3))
    assert status.data() == "3 of 8 waiting"
    assert model.index(row, Column.WAITING).data() == "00:00"
    room.apply(PatientArrived(group.id, NOW, people=2))
    assert status.data() == "2 of 8 waiting"
    room.apply(PatientLeft(group.id))
    assert status.data(Role.STATE) == DisplayState.SCHEDULED
    assert status.data() == DisplayState.SCHEDULED.label


def test_a_group_early_says_how_many_are_early(clock: FixedClock) -> None:
    room = WaitingRoomService()
    guests = (Participant("Guest 1", "g1@example.org"), Participant("Guest 2", "g2@example.org"))
    group = appointment(60, "Gia Moss", kind=AppointmentKind.GROUP, participants=guests)
    model = ScheduleModel(clock, room)
    model.set_range(DAY_START, DAY_END, [group], show_date=False)
    room.apply(PatientArrived(group.id, NOW, people=2))
    status = model.index(0, Column.STATUS)
    assert status.data(Role.STATE) == DisplayState.SCHEDULED
    assert status.data().startswith("2 of 3 waiting early (since ")
