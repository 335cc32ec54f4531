"""A phone appointment's row: "Call patient's phone" when the patient has a number (the browser's
audio call when not), Enter on the row rings it when the schedule says it may, and the number is
checked before anything is sent."""

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from pytestqt.qtbot import QtBot

from app.ui.schedule.actions_menu import ActionKey, action_states, dials_phone
from app.ui.schedule.schedule_view import ScheduleView
from app.views.schedule_columns import Column, Role
from shared.enums import AppointmentKind
from shared.phone_numbers import NumberRefused, check_before_dialling
from shared.records import Appointment, Patient
from tests.conftest import DR_NG, NOW


def phone_appointment(number: str, kind: AppointmentKind = AppointmentKind.PHONE) -> Appointment:
    return Appointment(
        id=uuid4(), patient=Patient(uuid4(), "Ann Lee", phone=number), clinician=DR_NG,
        start=NOW - timedelta(minutes=1), duration_minutes=20, kind=kind,
    )


def phone_action(appointment: Appointment) -> tuple[str, bool, str]:
    state = next(s for s in action_states(appointment, NOW, server=True)
                 if s.key is ActionKey.PHONE_CALL)
    return state.text, state.enabled, state.reason


def test_the_phone_action_rings_the_number_or_falls_back_to_the_browser() -> None:
    with_number = phone_appointment("020 7946 0961")
    assert dials_phone(with_number)
    assert phone_action(with_number) == ("Call patient's &phone", True, "")
    without = phone_appointment("  ")
    assert not dials_phone(without)
    assert phone_action(without) == ("Start &phone call (patient's browser)", True, "")
    video = phone_appointment("020 7946 0961", AppointmentKind.VIDEO)
    assert not dials_phone(video)
    text, enabled, reason = phone_action(video)
    assert not enabled
    assert reason == ("This is a video appointment: only a phone appointment rings the "
                      "patient's telephone.")


@pytest.mark.parametrize("number", ["+44 20 7946 0961", "0044 20 7946 0961", "020 7946 0961",
                                    "(201) 555-0123"])
def test_numbers_the_clinic_may_dial_pass_the_desktop(number: str) -> None:
    check_before_dialling(number)  # a national number is the server's to check (its region)


@pytest.mark.parametrize(("number", "why"), [
    ("", "The patient has no phone number. Add one before calling."),
    ("call me", "“call me” is not a phone number."),
    ("+44 12", "“+44 12” has too few or too many digits for a phone number."),
    ("+44 7700 900123", "“+44 7700 900123” is not a number that can be dialled."),
])
def test_numbers_no_clinic_could_dial_are_refused_in_words(number: str, why: str) -> None:
    with pytest.raises(NumberRefused) as refused:
        check_before_dialling(number)
    assert str(refused.value) == why


def test_enter_on_a_phone_row_calls_when_the_schedule_says_it_rings(qtbot: QtBot) -> None:
    view = ScheduleView()
    qtbot.addWidget(view)
    model = QStandardItemModel(1, len(Column))
    appointment = phone_appointment("020 7946 0961")
    item = QStandardItem("09:00")
    item.setData(appointment, Role.APPOINTMENT)
    model.setItem(0, 0, item)
    view.setModel(model)
    view.setCurrentIndex(model.index(0, 0))
    calls: list[Appointment] = []
    opened: list[Appointment] = []
    view.callRequested.connect(calls.append)
    view.openRequested.connect(opened.append)

    qtbot.keyClick(view, Qt.Key.Key_Return)  # calls not ready yet: Enter opens the booking
    assert (calls, opened) == ([], [appointment])
    asked: list[Appointment] = []

    def rings(row: Appointment) -> bool:
        asked.append(row)
        return row.start <= NOW

    view.rings_on_enter = rings
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert calls == [appointment] and asked == [appointment]
    later = replace(appointment, start=NOW + timedelta(minutes=10))
    item.setData(later, Role.APPOINTMENT)
    qtbot.keyClick(view, Qt.Key.Key_Enter)  # before its start: Enter opens it, as for others
    assert calls == [appointment] and opened == [appointment, later]
