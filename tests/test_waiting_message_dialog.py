"""The message to a waiting patient, typed as a clinician would."""

import uuid
from datetime import timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ui.waiting_room.waiting_message_dialog import COMMON_MESSAGES, WaitingMessageDialog
from shared.enums import AppointmentKind
from shared.records import Appointment, Patient
from tests.conftest import DR_NG, NOW


def test_typing_replaces_the_preset(qtbot: QtBot) -> None:
    appointment = Appointment(uuid.uuid4(), Patient(uuid.uuid4(), "Ann Lee"), DR_NG,
                              NOW + timedelta(minutes=10), 20, AppointmentKind.VIDEO)
    dialog = WaitingMessageDialog(appointment)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    line = dialog.message.lineEdit()
    assert line is not None
    # The preset is offered, and selected: the clinician's first keystroke replaces it.
    assert dialog.text() == COMMON_MESSAGES[0]
    assert line.selectedText() == COMMON_MESSAGES[0]
    qtbot.keyClicks(line, "Dr Ng is finishing a call.")
    assert dialog.text() == "Dr Ng is finishing a call."
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert dialog.result() == WaitingMessageDialog.DialogCode.Accepted
