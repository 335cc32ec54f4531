"""The schedule model: Qt's model contract, live state by dataChanged only, and the proxy."""

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.services.waiting_room_service import WaitingRoomService
from app.views.schedule_columns import Column, Role
from app.views.schedule_filter import ScheduleFilter, ScheduleFilterProxy
from app.views.schedule_model import ScheduleModel
from shared.clock import FixedClock
from shared.enums import AppointmentKind, AppointmentStatus, DisplayState, SyncState
from shared.events import PatientArrived
from shared.records import Appointment, Participant, Patient
from tests.conftest import DR_NG, DR_OKAFOR, NOW, ST_MARYS

DAY_START = NOW.replace(hour=0)
DAY_END = DAY_START + timedelta(days=1)


def appointment(minutes: int, name: str, **changes: Any) -> Appointment:
    base = Appointment(
        id=uuid.uuid4(),
        patient=Patient(uuid.uuid4(), name, mrn=f"MRN{minutes:04d}"),
        clinician=DR_NG,
        start=NOW + timedelta(minutes=minutes),
        duration_minutes=20,
        kind=AppointmentKind.VIDEO,
        location=ST_MARYS,
    )
    return replace(base, **changes)


def day_of_appointments() -> list[Appointment]:
    return [
        appointment(-60, "Ann Lee", status=AppointmentStatus.TAKEN),
        appointment(2, "Bob Stone"),
        appointment(30, "Cara Diaz", kind=AppointmentKind.PHONE, clinician=DR_OKAFOR),
        appointment(
            60, "Dev Shah", kind=AppointmentKind.GROUP, participants=(Participant("E", "e@x.org"),)
        ),
        appointment(90, "Eve Moss", status=AppointmentStatus.CANCELLED, cancel_reason="Ill"),
    ]


@pytest.fixture(name="waiting_room")
def waiting_room_fixture() -> WaitingRoomService:
    return WaitingRoomService()


class Recorder:
    """Records every structural and data signal a model emits."""

    def __init__(self, model: ScheduleModel) -> None:
        self.events: list[tuple[str, Any]] = []
        model.dataChanged.connect(
            lambda top, bottom, roles: self.events.append(
                ("dataChanged", (top.row(), bottom.row(), top.column(), bottom.column()))
            )
        )
        for name in ("modelReset", "layoutChanged", "rowsInserted", "rowsRemoved"):
            getattr(model, name).connect(lambda *args, n=name: self.events.append((n, None)))

    def kinds(self) -> set[str]:
        return {kind for kind, _ in self.events}


def test_model_passes_qt_model_tester(
    qtmodeltester: ModelTester, clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    model = ScheduleModel(clock, waiting_room)
    model.set_range(DAY_START, DAY_END, day_of_appointments(), show_date=False)
    qtmodeltester.check(model, force_py=True)
    proxy = ScheduleFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)


def test_columns_show_what_a_clinician_needs(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    model = ScheduleModel(clock, waiting_room)
    rows = day_of_appointments()
    model.set_range(DAY_START, DAY_END, rows, show_date=False)

    def cell(row: int, column: Column, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return model.index(row, column).data(role)

    local = rows[1].start.astimezone()
    assert cell(1, Column.TIME) == f"{local:%H:%M}–{local + timedelta(minutes=20):%H:%M}"
    assert "MRN: MRN0002" in cell(1, Column.PATIENT, Qt.ItemDataRole.ToolTipRole)
    assert "Date of birth" in cell(1, Column.PATIENT, Qt.ItemDataRole.ToolTipRole)
    assert cell(3, Column.KIND) == "Group (2)"
    assert not cell(3, Column.KIND, Qt.ItemDataRole.DecorationRole).isNull()
    assert cell(0, Column.STATUS) == "Taken"
    assert cell(0, Column.STATUS, Qt.ItemDataRole.AccessibleTextRole).startswith("Status: Taken")
    assert cell(0, Column.PATIENT, Qt.ItemDataRole.ForegroundRole) is not None  # greyed
    assert cell(1, Column.PATIENT, Qt.ItemDataRole.ForegroundRole) is None
    assert cell(4, Column.NOTES) == "Cancelled: Ill"
    assert cell(4, Column.PATIENT, Qt.ItemDataRole.FontRole).strikeOut()


def test_arrival_turns_one_row_green_and_the_clock_counts(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    model = ScheduleModel(clock, waiting_room)
    rows = day_of_appointments()
    model.set_range(DAY_START, DAY_END, rows, show_date=False)
    recorder = Recorder(model)

    waiting_room.apply(PatientArrived(rows[1].id, NOW - timedelta(seconds=30)))
    status = model.index(1, Column.STATUS)
    waiting = model.index(1, Column.WAITING)
    assert status.data(Role.STATE) == DisplayState.WAITING
    assert waiting.data() == "00:30"

    clock.advance(1)
    model.tick()
    assert waiting.data() == "00:31"
    clock.advance(60)
    model.tick()
    assert waiting.data() == "01:31"

    assert recorder.kinds() == {"dataChanged"}
    assert {rows_ for _, (rows_, *_rest) in recorder.events} == {1}


def test_early_arrival_turns_green_five_minutes_before_the_start(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    model = ScheduleModel(clock, waiting_room)
    rows = day_of_appointments()
    model.set_range(DAY_START, DAY_END, rows, show_date=False)
    waiting_room.apply(PatientArrived(rows[2].id, NOW))  # 30 minutes early
    assert model.index(2, Column.STATUS).data(Role.STATE) == DisplayState.SCHEDULED
    recorder = Recorder(model)
    clock.advance(25 * 60)
    model.tick()
    assert model.index(2, Column.STATUS).data(Role.STATE) == DisplayState.WAITING
    assert model.index(2, Column.WAITING).data() == "25:00"
    assert recorder.events == [("dataChanged", (2, 2, 0, len(Column) - 1))]


def test_status_change_repaints_one_row_only(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    model = ScheduleModel(clock, waiting_room)
    rows = day_of_appointments()
    model.set_range(DAY_START, DAY_END, rows, show_date=False)
    waiting_room.apply(PatientArrived(rows[1].id, NOW))
    recorder = Recorder(model)
    model.upsert(rows[1].with_status(AppointmentStatus.TAKEN))
    assert model.index(1, Column.STATUS).data(Role.STATE) == DisplayState.TAKEN
    assert recorder.events == [("dataChanged", (1, 1, 0, len(Column) - 1))]
    assert "modelReset" not in recorder.kinds() and "layoutChanged" not in recorder.kinds()


def test_the_newest_write_wins_even_when_the_server_renumbers_versions(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    """Writes reach the model in commit order; a pulled record may carry a lower version than
    this desktop's optimistic count, and must still be shown."""
    model = ScheduleModel(clock, waiting_room)
    rows = day_of_appointments()
    model.set_range(DAY_START, DAY_END, rows, show_date=False)
    local = replace(rows[1], version=7, sync_state=SyncState.PENDING)
    model.upsert(local)
    pulled = replace(rows[1], version=2, notes="from the server")
    model.upsert(pulled)
    assert model.appointment_at(1) == pulled
    assert model.index(1, Column.PATIENT).data(Qt.ItemDataRole.DecorationRole) is None


def test_upsert_inserts_and_removes_by_range(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    model = ScheduleModel(clock, waiting_room)
    rows = day_of_appointments()
    model.set_range(DAY_START, DAY_END, rows, show_date=False)
    recorder = Recorder(model)
    new = appointment(120, "Fay Wu")
    model.upsert(new)
    assert model.rowCount() == 6 and model.row_of(new.id) == 5
    moved = replace(rows[0], start=NOW + timedelta(days=2), version=2)
    model.upsert(moved)
    assert model.rowCount() == 5 and model.row_of(rows[0].id) is None
    assert model.row_of(new.id) == 4  # rows after the removed one moved up
    assert recorder.kinds() == {"rowsInserted", "rowsRemoved"}


def filtered_day(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> tuple[ScheduleModel, ScheduleFilterProxy, list[Appointment]]:
    """The day's model behind the schedule's filter proxy."""
    model = ScheduleModel(clock, waiting_room)
    rows = day_of_appointments()
    model.set_range(DAY_START, DAY_END, rows, show_date=False)
    proxy = ScheduleFilterProxy()
    proxy.setSourceModel(model)
    return model, proxy, rows


def test_filter_by_text_status_kind_and_clinician(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    _model, proxy, rows = filtered_day(clock, waiting_room)

    def names() -> list[str]:
        return sorted(
            proxy.index(r, Column.PATIENT).data() for r in range(proxy.rowCount(QModelIndex()))
        )

    proxy.set_filter(ScheduleFilter(text="  sto "))
    assert names() == ["Bob Stone"]
    proxy.set_filter(ScheduleFilter(text="mrn0030"))
    assert names() == ["Cara Diaz"]
    proxy.set_filter(ScheduleFilter(kind=AppointmentKind.GROUP))
    assert names() == ["Dev Shah"]
    proxy.set_filter(ScheduleFilter(clinician_id=DR_OKAFOR.id))
    assert names() == ["Cara Diaz"]
    proxy.set_filter(ScheduleFilter(states=frozenset({DisplayState.WAITING})))
    assert names() == []
    waiting_room.apply(PatientArrived(rows[1].id, NOW))
    assert names() == ["Bob Stone"]  # dynamic: the arrival brings the row into the filter


def test_an_edited_appointment_is_filtered_and_shown_by_its_new_name_and_time(
    clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    """The texts the model keeps per appointment (filter, time) follow every write."""
    model, proxy, rows = filtered_day(clock, waiting_room)
    proxy.set_filter(ScheduleFilter(text="stone"))
    assert proxy.rowCount() == 1
    before = proxy.index(0, Column.TIME).data()

    bob = rows[1]
    moved = replace(bob, patient=replace(bob.patient, name="Bob Stane", mrn="MRN9999"),
                    start=bob.start + timedelta(minutes=5))
    model.upsert(moved)
    assert proxy.rowCount() == 0  # the old name no longer matches
    proxy.set_filter(ScheduleFilter(text="mrn9999"))
    assert [proxy.index(r, Column.PATIENT).data() for r in range(proxy.rowCount())] == [
        "Bob Stane"]
    after = proxy.index(0, Column.TIME).data()
    assert after != before and model.index(model.row_of(bob.id) or 0, Column.TIME).data() == after


def test_sorting_by_any_column(
    qtbot: QtBot, clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    model = ScheduleModel(clock, waiting_room)
    model.set_range(DAY_START, DAY_END, day_of_appointments(), show_date=False)
    proxy = ScheduleFilterProxy()
    proxy.setSourceModel(model)
    for column in Column:
        proxy.sort(column, Qt.SortOrder.DescendingOrder)
        assert proxy.rowCount() == 5
    proxy.sort(Column.PATIENT, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, Column.PATIENT).data() == "Eve Moss"
    proxy.sort(Column.TIME, Qt.SortOrder.AscendingOrder)
    assert proxy.index(0, Column.PATIENT).data() == "Ann Lee"


def test_sorted_model_places_new_and_changed_rows(
    qtmodeltester: ModelTester, clock: FixedClock, waiting_room: WaitingRoomService
) -> None:
    model = ScheduleModel(clock, waiting_room)
    rows = day_of_appointments()
    model.set_range(DAY_START, DAY_END, rows, show_date=False)
    qtmodeltester.check(model, force_py=True)
    model.sort(Column.PATIENT, Qt.SortOrder.DescendingOrder)
    assert [model.appointment_at(r).patient.name for r in range(5)] == [
        "Eve Moss", "Dev Shah", "Cara Diaz", "Bob Stone", "Ann Lee",
    ]
    recorder = Recorder(model)
    model.upsert(appointment(5, "Cy Young"))
    assert model.appointment_at(2).patient.name == "Cy Young"  # after Dev, before Cara
    model.sort(Column.STATUS, Qt.SortOrder.AscendingOrder)
    first = model.appointment_at(0)
    assert model.state_of(first) is DisplayState.SCHEDULED
    moves: list[tuple[int, int]] = []
    model.rowsMoved.connect(lambda _p, start, _e, _d, dest: moves.append((start, dest)))
    recorder.events.clear()
    model.upsert(first.with_status(AppointmentStatus.TAKEN))
    # It moved among the taken ones by a row move, then repainted; no layout change or reset.
    assert moves and recorder.kinds() == {"dataChanged"}
    taken_rows = [r for r in range(model.rowCount())
                  if model.state_of(model.appointment_at(r)) is DisplayState.TAKEN]
    assert model.row_of(first.id) in taken_rows
    keys = [model.sort_key(model.appointment_at(r), Column.STATUS) for r in range(model.rowCount())]
    assert keys == sorted(keys)
