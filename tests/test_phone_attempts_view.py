"""Calls to a phone appointment's patient on the desktop: pulled into the store, the latest on
the schedule's row ("No answer at 10:02"), every one in the Phone call attempts dialog."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.services.waiting_room_service import WaitingRoomService
from app.store.local_store import LocalStore
from app.ui.schedule.actions_menu import ActionKey, action_states
from app.ui.schedule.phone_attempts_dialog import PhoneAttemptsDialog
from app.views.date_text import date_time_text, time_text
from app.views.phone_attempt_model import PhoneAttemptModel
from app.views.phone_attempt_text import attempt_summary, duration_text, outcome_text
from app.views.schedule_columns import Column
from app.views.schedule_model import ScheduleModel
from shared.clock import FixedClock
from shared.enums import AppointmentStatus
from shared.phone_call_protocol import PhoneOutcome
from shared.records import PhoneAttempt
from shared.sync_protocol import PullResponse
from tests.conftest import DR_NG, NOW

PATIENT = uuid4()
APPOINTMENT = uuid4()
START = NOW + timedelta(hours=2)


def _page(*changes: dict[str, Any]) -> PullResponse:
    return PullResponse.model_validate({
        "protocol": 1, "cursor": 9, "has_more": False, "server_time": NOW.isoformat(),
        "scope": "s", "changes": list(changes),
    })


def _booking() -> list[dict[str, Any]]:
    patient: dict[str, Any] = {
        "id": str(PATIENT), "name": "Ann Lee", "date_of_birth": None, "mrn": "M7", "email": "",
        "phone": "+442079460961", "version": 1, "updated_at": NOW.isoformat(),
    }
    appointment: dict[str, Any] = {
        "id": str(APPOINTMENT), "patient_id": str(PATIENT), "clinician_id": str(DR_NG.id),
        "location_id": None, "start": START.isoformat(), "duration_minutes": 20,
        "kind": "phone", "notes": "", "status": "scheduled", "cancel_reason": "",
        "participants": [], "external_ids": {}, "version": 1, "updated_at": NOW.isoformat(),
        "invite_status": "", "invite_error": "",
    }
    return [{"seq": 1, "type": "patient", "id": str(PATIENT), "deleted": False, "data": patient},
            {"seq": 2, "type": "appointment", "id": str(APPOINTMENT), "deleted": False,
             "data": appointment}]


def _attempt(seq: int, attempt_id: UUID, started: datetime, outcome: str | None,
             answered: datetime | None = None, duration: int = 0) -> dict[str, Any]:
    data = {
        "id": str(attempt_id), "appointment_id": str(APPOINTMENT),
        "started_at": started.isoformat(),
        "answered_at": answered.isoformat() if answered else None,
        "ended_at": (started + timedelta(seconds=30 + duration)).isoformat() if outcome else None,
        "outcome": outcome, "sip_code": 486 if outcome == "busy" else None,
        "duration_seconds": duration, "caller_id": str(DR_NG.id), "caller_name": "Dr Ng",
        "number": "+442079460961", "version": 2 if outcome else 1,
        "updated_at": started.isoformat(),
    }
    return {"seq": seq, "type": "phone_attempt", "id": str(attempt_id), "deleted": False,
            "data": data}


def test_pulled_attempts_land_in_the_store_and_the_latest_is_on_the_appointment(
    store: LocalStore,
) -> None:
    store.apply_page(_page(*_booking()), 1).result()
    busy, unanswered = uuid4(), uuid4()
    earlier, later = NOW - timedelta(minutes=30), NOW - timedelta(minutes=5)
    applied = store.apply_page(_page(_attempt(3, busy, earlier, "busy"),
                                     _attempt(4, unanswered, later, None)), 1).result()
    # The row of the appointment shows the latest call: it counts as changed.
    assert applied.changed == {"phone_attempt": {busy, unanswered}, "appointment": {APPOINTMENT}}
    latest = store.get_appointment(APPOINTMENT).result().last_phone_attempt
    assert latest is not None and (latest.id, latest.outcome) == (unanswered, None)
    # The call ends: the same row, updated (never a second one).
    store.apply_page(_page(_attempt(5, unanswered, later, "no_answer")), 1).result()
    attempts = store.phone_attempts(APPOINTMENT).result()
    assert [(a.id, a.outcome) for a in attempts] == [
        (unanswered, PhoneOutcome.NO_ANSWER), (busy, PhoneOutcome.BUSY)]
    assert attempts[0].caller_name == "Dr Ng" and attempts[0].number == "+442079460961"
    # An attempt gone from the user's view goes from the store.
    store.apply_page(_page({"seq": 6, "type": "phone_attempt", "id": str(unanswered),
                            "deleted": True}), 1).result()
    assert [a.id for a in store.phone_attempts(APPOINTMENT).result()] == [busy]
    latest = store.get_appointment(APPOINTMENT).result().last_phone_attempt
    assert latest is not None and latest.id == busy


def _record(started: datetime, outcome: PhoneOutcome | None, answered: datetime | None = None,
            duration: int = 0, caller: str = "Dr Ng") -> PhoneAttempt:
    return PhoneAttempt(
        id=uuid4(), appointment_id=APPOINTMENT, started_at=started, caller_name=caller,
        number="+442079460961", answered_at=answered,
        ended_at=started + timedelta(seconds=40 + duration) if outcome else None,
        outcome=outcome, duration_seconds=duration,
    )


def test_a_call_in_words() -> None:
    today = NOW.astimezone().date()
    at = NOW - timedelta(minutes=8)
    assert attempt_summary(_record(at, PhoneOutcome.NO_ANSWER), today) == (
        f"No answer at {time_text(at)}")
    assert attempt_summary(_record(at, PhoneOutcome.UNREACHABLE), today) == (
        f"Number unreachable at {time_text(at)}")
    answered = at + timedelta(seconds=20)
    assert attempt_summary(_record(at, PhoneOutcome.ANSWERED, answered, 187), today) == (
        f"Answered at {time_text(answered)}, 3:07")
    assert attempt_summary(_record(at, None), today) == f"Calling since {time_text(at)}"
    # Not "Cancelled at …": the row would seem to say the appointment was cancelled.
    hung_up = _record(at, PhoneOutcome.CANCELLED)
    assert attempt_summary(hung_up, today) == f"Call hung up at {time_text(at)}"
    assert outcome_text(hung_up) == "Hung up before an answer"
    assert attempt_summary(_record(at, PhoneOutcome.FAILED), today) == (
        f"Call failed at {time_text(at)}")
    yesterday = at - timedelta(days=1)
    assert attempt_summary(_record(yesterday, PhoneOutcome.BUSY), today) == (
        f"Busy at {date_time_text(yesterday)}")
    assert (duration_text(0), duration_text(65), duration_text(3725)) == (
        "0:00", "1:05", "1:02:05")


def test_the_schedule_row_says_how_the_last_call_went(
    store: LocalStore, clock: FixedClock, qtbot: QtBot
) -> None:
    store.apply_page(_page(*_booking()), 1).result()
    at = NOW - timedelta(minutes=3)
    store.apply_page(_page(_attempt(3, uuid4(), at, "no_answer")), 1).result()
    appointment = store.get_appointment(APPOINTMENT).result()
    model = ScheduleModel(clock, WaitingRoomService())
    model.set_range(NOW - timedelta(hours=8), NOW + timedelta(hours=16), [appointment],
                    show_date=False)
    status = model.index(0, Column.STATUS)
    assert status.data() == f"No answer at {time_text(at)}"
    assert status.data(Qt.ItemDataRole.ToolTipRole) == (
        f"Booked; the patient is not in the waiting room yet. Last call to the patient's phone: "
        f"No answer at {time_text(at)}, by Dr Ng (every call: Phone call attempts in the row's "
        "actions).")
    # Once taken, the row says Taken; the tooltip still tells the last call.
    model.upsert(appointment.with_status(AppointmentStatus.TAKEN))
    assert status.data() == "Taken"
    assert "Last call to the patient's phone" in status.data(Qt.ItemDataRole.ToolTipRole)
    # The row's actions open every call, for phone appointments, also once taken.
    [offered] = [s for s in action_states(appointment, NOW) if s.key is ActionKey.CALL_ATTEMPTS]
    assert offered.enabled and offered.text == "P&hone call attempts…"


def test_the_attempts_dialog_lists_every_call(
    store: LocalStore, qtbot: QtBot, tmp_path: Path, screenshot_dir: Path | None,
) -> None:
    store.apply_page(_page(*_booking()), 1).result()
    appointment = store.get_appointment(APPOINTMENT).result()
    first = NOW - timedelta(hours=1, minutes=10)
    attempts = [
        _record(first, PhoneOutcome.BUSY),
        _record(first + timedelta(minutes=20), PhoneOutcome.NO_ANSWER, caller="Sam Clerk"),
        _record(first + timedelta(minutes=50), PhoneOutcome.ANSWERED,
                first + timedelta(minutes=50, seconds=12), 187),
    ]
    dialog = PhoneAttemptsDialog(appointment, attempts)
    qtbot.addWidget(dialog)
    dialog.show()
    model = dialog.model
    shown = [[model.index(r, c).data() for c in range(4)] for r in range(model.rowCount())]
    assert shown == [
        [date_time_text(attempts[2].started_at), "Answered", "3:07", "Dr Ng"],
        [date_time_text(attempts[1].started_at), "No answer", "—", "Sam Clerk"],
        [date_time_text(attempts[0].started_at), "Busy", "—", "Dr Ng"],
    ]
    assert dialog.summary.text().startswith("3 calls made, the latest first.")
    rescheduled: list[object] = []
    dialog.reschedule.connect(rescheduled.append)
    grab = dialog.grab()
    assert grab.save(str((screenshot_dir or tmp_path) / "phone-attempts.png"))
    dialog.reschedule_button.click()
    assert rescheduled == [appointment] and not dialog.isVisible()

    empty = PhoneAttemptsDialog(appointment, [])
    qtbot.addWidget(empty)
    assert empty.summary.text() == (
        "Nobody has called the patient's phone for this appointment yet.")
    assert empty.table.isHidden()


def test_the_attempt_model_passes_qt_model_tester(qtmodeltester: ModelTester) -> None:
    model = PhoneAttemptModel()
    qtmodeltester.check(model, force_py=True)
    model.set_attempts([_record(NOW, PhoneOutcome.BUSY),
                        _record(NOW, PhoneOutcome.ANSWERED, NOW, 30)])
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2
