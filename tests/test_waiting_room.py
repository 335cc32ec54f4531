"""The waiting room on the desktop: one owner of arrivals and of the waiting-time tick
(app/services/waiting_room_service.py), and the one conversion from the wire."""

import uuid
from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.domain.clock import FixedClock
from app.domain.enums import DisplayState
from app.domain.events import PatientArrived, PatientLeft, waiting_room_event
from app.domain.realtime_protocol import PresenceEvent, PresenceState
from app.services.waiting_room_service import WaitingRoomService
from app.views.schedule_columns import Column, Role
from app.views.schedule_model import ScheduleModel
from tests.conftest import NOW
from tests.test_schedule_model import DAY_END, DAY_START, day_of_appointments


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
