"""The appointment controller (app/ui/schedule/appointment_controller.py) on a real store and
without the main window: it opens its dialogs over the window that adopted it and speaks to
the user only through the message bridge."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.services.message_bridge import MessageBridge
from app.services.schedule_service import ScheduleService
from app.ui.schedule.appointment_controller import AppointmentController
from shared.enums import AppointmentStatus
from shared.records import Appointment
from tests.conftest import DR_NG, NOW


@pytest.fixture
def host(qtbot: QtBot, schedule_service: ScheduleService) -> Iterator[QWidget]:
    """A plain window standing in for the main window; Qt deletes it (and its dialogs)."""
    with qtbot.waitSignal(schedule_service.directoryLoaded, timeout=5000):
        schedule_service.load_directory()
    window = QWidget()
    window.show()
    yield window
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_booking_and_refusals_speak_through_the_bridge(
    qtbot: QtBot, host: QWidget, schedule_service: ScheduleService, bridge: MessageBridge
) -> None:
    controller = AppointmentController(schedule_service, bridge)
    controller.setParent(host)
    infos: list[str] = []
    notes: list[str] = []
    saved: list[Appointment] = []
    bridge.info.connect(infos.append)
    bridge.note.connect(lambda text, _ms: notes.append(text))
    controller.saved.connect(saved.append)

    start = NOW + timedelta(minutes=30)
    dialog = controller.new(start, DR_NG.id)
    assert dialog.parent() is host
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.name_edit, "Ann Lee")
    qtbot.keyClicks(dialog.email_edit, "ann@example.org")
    qtbot.keyClick(dialog.email_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(saved))
    [booked] = saved
    assert booked.clinician == DR_NG and booked.start == start
    assert notes == [f"Saved Ann Lee at {start.astimezone():%H:%M}"]

    taken = booked.with_status(AppointmentStatus.TAKEN)
    assert controller.cancel(taken) is None
    assert controller.edit(taken) is None
    assert infos[0] == "This appointment is taken."
    assert len(infos) == 2 and infos[1]  # why it cannot be edited, in words
    # Not signed in to a server: nothing reaches the patient, and nothing opens.
    assert controller.message_patient(booked) is None

    cancel = controller.cancel(booked)
    assert cancel is not None and cancel.parent() is host
    qtbot.keyClicks(cancel.reason_combo, "Patient request")
    qtbot.keyClick(cancel.reason_combo, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: notes[-1] == "Cancelled Ann Lee's appointment")
