"""A call from the schedule, end to end through the real server: the patient waits (their
page's socket), the row turns green, Enter calls, media flows both ways, the appointment turns
taken everywhere, hang-up ends both sides."""

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import Application
from app.media.call_state import CallState
from app.services.call_service import CallConfig
from app.sync.realtime_client import RealtimeClient
from app.ui.call.call_controller import CallController
from app.ui.schedule.actions_menu import ActionKey
from app.ui.tasks.task_dialog import TaskDialog
from app.ui.tasks.tasks_controller import TasksController
from app.ui.waiting_room.waiting_message_dialog import COMMON_MESSAGES, WaitingMessageDialog
from app.views.schedule_columns import Column, Role
from shared.enums import AppointmentStatus, DisplayState, SyncState
from shared.realtime_protocol import SignalKind
from shared.records import Appointment
from tests.media_peers import quick_options
from tests.polling import eventually
from tests.server.server_process import LiveServer
from tests.sync.desk import Desk
from tests.sync.live_server import LiveClinic
from tests.sync.patient_peer import PatientSocketSignalling, patient_in_waiting_room
from tests.sync.qt_loop import QtLoop, qt_loop
from tests.sync.test_desktop_sync import close_window, open_window, rows, shoot, show_day_of

log = logging.getLogger(__name__)


@pytest.fixture
def qloop(qapp: object) -> Iterator[QtLoop]:
    with qt_loop(qapp) as loop:
        yield loop


def book_on_screen(qloop: QtLoop, window: Application, clerk: Desk, clinician: UUID,
                   patient: str) -> Appointment:
    """The clerk books `patient` with `clinician` in a few minutes; the row is on screen."""
    qloop.run(clerk.sign_in())
    qloop.run(clerk.sync())
    soon = (datetime.now(UTC) + timedelta(minutes=3)).replace(second=0, microsecond=0)
    booked = qloop.run(clerk.book(clinician, soon, patient))
    qloop.run(clerk.sync())
    show_day_of(qloop, window, soon)
    qloop.wait_until(lambda: booked.id in rows(window))
    return booked


def patient_link(qloop: QtLoop, window: Application, booked: Appointment) -> str:
    """The patient's join link, as Copy patient link gives it."""
    assert window.contact is not None
    links: list[str | None] = []
    window.contact.patient_link(rows(window)[booked.id], lambda url, _e: links.append(url))
    qloop.wait_until(lambda: bool(links))
    assert links[0] is not None
    return links[0]


def test_calling_the_waiting_patient_from_the_schedule(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, clinic: LiveClinic,
    screenshot_dir: Path | None,
) -> None:
    window = open_window(tmp_path, qloop, live.url, "ng")
    clerk = Desk(tmp_path / "clerk.sqlite3", live.url, "clerk")
    patient = None
    assert window.calls is not None and window.contact is not None
    window.calls.config = CallConfig(options=quick_options(), allow_test_sources=True)
    try:
        booked = book_on_screen(qloop, window, clerk, clinic.ids["ng"], "Ada Lovelace")
        patient = qloop.run(patient_in_waiting_room(live.url, patient_link(qloop, window, booked)))

        model = window.model

        def state() -> object:
            row = model.row_of(booked.id)
            return None if row is None else model.index(row, Column.STATUS).data(Role.STATE)

        qloop.wait_until(lambda: state() == DisplayState.WAITING)
        assert window.notifier.last_message.startswith("Ada Lovelace is in the waiting room")
        # The clinician tells the waiting patient they run late (the row's actions menu).
        appointment = rows(window)[booked.id]
        window.window.trigger(ActionKey.MESSAGE_PATIENT, appointment)
        qloop.wait_until(lambda: window.window.findChild(WaitingMessageDialog) is not None)
        message_dialog = window.window.findChild(WaitingMessageDialog)
        assert isinstance(message_dialog, WaitingMessageDialog)
        message_dialog.buttons.accepted.emit()
        signalling = patient.signalling
        assert isinstance(signalling, PatientSocketSignalling)
        qloop.wait_until(lambda: any(m["type"] == "message" for m in signalling.messages))
        text = next(m["text"] for m in signalling.messages if m["type"] == "message")
        assert text == COMMON_MESSAGES[0]
        # Resending the invite on a server without email says what to do instead.
        window.window.trigger(ActionKey.RESEND_INVITE, appointment)
        qloop.wait_until(lambda: "copy the patient link" in window.window.banner.label.text())

        # A network blip on the desktop's side: while it cannot hear, nobody shows as waiting;
        # on reconnecting the server says who is there (and since when).
        assert window.sync is not None
        arrived = window.waiting_room.arrived_at(booked.id)
        qloop.run(window.sync.realtime.stop())
        assert state() == DisplayState.SCHEDULED
        window.sync.realtime.start()
        qloop.wait_until(lambda: state() == DisplayState.WAITING)
        assert window.waiting_room.arrived_at(booked.id) == arrived
        row = model.row_of(booked.id)
        assert row is not None
        assert model.index(row, Column.CALL).data(Qt.ItemDataRole.DecorationRole) is not None

        view = window.window.view
        view.setFocus()
        view.setCurrentIndex(window.window.proxy.mapFromSource(model.index(row, Column.PATIENT)))
        qtbot.keyClick(view, Qt.Key.Key_Return)  # Enter on a green row calls
        controller = window.window.calls
        assert isinstance(controller, CallController)
        qloop.wait_until(lambda: window.calls is not None
                         and window.calls.state is CallState.CONNECTED, timeout=15)
        connected = time.monotonic()
        qloop.wait_until(lambda: window.calls is not None and window.calls.frames_shown > 5
                         and patient is not None
                         and patient.listener.received.video_frames > 5
                         and patient.listener.received.loud_audio_frames > 0, timeout=15)

        # Taken on the clerk's desktop (the product aims at a second; this machine is shared,
        # so the test waits for it and logs the figure rather than timing it).
        async def clerk_sees_taken() -> bool:
            await clerk.sync()
            return (await clerk.appointment(booked.id)).status is AppointmentStatus.TAKEN

        qloop.run(eventually(clerk_sees_taken, timeout=10, what="taken at the clerk's"))
        log.info("connected -> taken at the clerk's desktop: %.0f ms",
                 (time.monotonic() - connected) * 1000)
        qloop.wait_until(lambda: state() == DisplayState.TAKEN)
        assert controller.call_window is not None
        shoot(controller.call_window, screenshot_dir, "call-from-schedule.png")
        assert window.idle_lock.check() is False  # held off during the call

        controller.call_window.hang_up_button.click()
        qloop.wait_until(lambda: patient is not None
                         and patient.session.state is CallState.ENDED, timeout=10)
        qloop.wait_until(lambda: window.calls is not None
                         and window.calls.state is CallState.ENDED)

        # Offered at the end of the call: a related task, prefilled from the appointment.
        call_window = controller.call_window
        assert call_window is not None and call_window.follow_up_button.isVisible()
        call_window.follow_up_button.click()
        qloop.wait_until(lambda: window.window.findChild(TaskDialog) is not None)
        dialog = window.window.findChild(TaskDialog)
        assert isinstance(dialog, TaskDialog)
        assert dialog.assignee.currentData() == clinic.ids["ng"]
        assert "Ada Lovelace" in dialog.text.toPlainText()
        dialog.text.insertPlainText("bloods in 6 weeks")
        shoot(dialog, screenshot_dir, "task-after-call.png")
        dialog.save()
        qloop.wait_until(lambda: window.window.findChild(TaskDialog) is None)

        tasks_view = window.window.findChild(TasksController)
        assert tasks_view is not None
        tasks_window = tasks_view.open_tasks()
        # Saved here first (pending), then sent: the row updates in place once the server has it.
        qloop.wait_until(lambda: tasks_window.model.rowCount() == 1
                         and tasks_window.model.task_at(0).sync_state is SyncState.SYNCED)
        task = tasks_window.model.task_at(0)
        assert task.text.endswith("bloods in 6 weeks") and task.appointment_id == booked.id
        shoot(tasks_window, screenshot_dir, "tasks-view.png")
        tasks_window.close()
    finally:
        if patient is not None:
            qloop.run(patient.close())
        qloop.run(clerk.close())
        close_window(qloop, window)


def test_a_second_taker_is_told_who_has_the_call(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, clinic: LiveClinic,
) -> None:
    window = open_window(tmp_path, qloop, live.url, "ng")
    clerk = Desk(tmp_path / "clerk.sqlite3", live.url, "clerk")
    assert window.calls is not None and window.contact is not None
    window.calls.config = CallConfig(options=quick_options(), allow_test_sources=True)
    first_taker = None
    try:
        booked = book_on_screen(qloop, window, clerk, clinic.ids["ng"], "Grace Hopper")
        # Another desktop (the clerk's, who sees Dr Ng's schedule) has started this call.
        first_taker = RealtimeClient(clerk.api, on_changes=lambda _c: None,
                                     on_presence=lambda _e: None,
                                     on_connected=lambda _up: None,
                                     on_signed_out=lambda _m: None)
        first_taker.start()
        qloop.wait_until(lambda: first_taker is not None and first_taker.connected)
        qloop.run(first_taker.send_signal(booked.id, SignalKind.OFFER, {"sdp": "v=0"}))

        controller = window.window.calls
        assert isinstance(controller, CallController)
        controller.start(rows(window)[booked.id])
        qloop.wait_until(lambda: window.calls is not None
                         and window.calls.state is CallState.ENDED, timeout=15)
        qloop.wait_until(lambda: "Sam Clerk has already started this call."
                         in window.window.banner.label.text())
        assert rows(window)[booked.id].status is AppointmentStatus.SCHEDULED  # not taken
    finally:
        if first_taker is not None:
            qloop.run(first_taker.stop())
        qloop.run(clerk.close())
        close_window(qloop, window)
