"""Answers from the store reach only widgets that still exist."""

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from pytestqt.qtbot import QtBot

from app.services.schedule_service import ScheduleService
from app.store.sync_facts import RejectedRecord
from app.ui.sync.attention_dialog import AttentionDialog


def test_an_answer_for_a_dialog_closed_meanwhile_is_dropped(
    qtbot: QtBot, schedule_service: ScheduleService
) -> None:
    dialog = AttentionDialog(schedule_service)  # asks the store for the refused changes
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    schedule_service.rejected(dialog._show)  # noqa: SLF001 - a second answer on its way
    dialog.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # Qt deletes it now
    answered: list[list[RejectedRecord]] = []
    schedule_service.rejected(answered.append)  # the store answers in order: this comes last
    qtbot.waitUntil(lambda: bool(answered))  # the dialog's answers were dropped, not raised
