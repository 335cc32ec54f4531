"""The clinician's room controls beside the group call's participant list: they act on the
selected participant (guests only), keep the selection across the list's updates, and ask
before removing someone or ending the call for everyone."""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.media.group_session import GroupParticipant
from app.ui.group_call.participant_list import ParticipantList
from app.ui.group_call.room_controls import RoomControls

ME = GroupParticipant("staff-1", "Ng", me=True, video=True)
GUEST = GroupParticipant("guest-2", "Guest 2", video=True)
OTHER = GroupParticipant("staff-9", "Dr Okafor", video=True)


def panel(qtbot: QtBot) -> tuple[QWidget, ParticipantList, RoomControls]:
    box = QWidget()
    qtbot.addWidget(box)
    listed = ParticipantList(box)
    controls = RoomControls(box)
    layout = QVBoxLayout(box)
    layout.addWidget(listed)
    layout.addWidget(controls)
    listed.chosenChanged.connect(controls.select)
    listed.show_participants([ME, GUEST, OTHER])
    box.resize(300, 320)
    box.show()
    qtbot.waitExposed(box)
    return box, listed, controls


def test_controls_act_on_the_selected_guest_only(
    qtbot: QtBot, screenshot_dir: Path | None
) -> None:
    box, listed, controls = panel(qtbot)
    assert not controls.mute_button.isEnabled() and not controls.remove_button.isEnabled()
    for row in (0, 2):  # this desktop and another member of staff: no controls
        listed.setCurrentRow(row)
        assert not controls.mute_button.isEnabled()
    listed.setCurrentRow(1)
    assert controls.mute_button.text() == "Mute Guest 2"
    assert controls.remove_button.text() == "Remove Guest 2…"
    if screenshot_dir is not None:
        box.grab().save(str(screenshot_dir / "group-room-controls.png"))

    with qtbot.waitSignal(controls.muteRequested) as asked:
        qtbot.mouseClick(controls.mute_button, Qt.MouseButton.LeftButton)
    assert asked.args == ["guest-2", True]
    # The room says they are muted now: the list updates and the selection stays.
    listed.show_participants([ME, GroupParticipant("guest-2", "Guest 2", muted=True), OTHER])
    assert listed.selected() is not None and listed.selected().id == "guest-2"  # type: ignore[union-attr]
    assert controls.mute_button.text() == "Unmute Guest 2"
    with qtbot.waitSignal(controls.muteRequested) as asked:
        qtbot.mouseClick(controls.mute_button, Qt.MouseButton.LeftButton)
    assert asked.args == ["guest-2", False]
    # They leave: nothing selected, nothing to act on.
    listed.show_participants([ME, OTHER])
    assert controls.selected is None and not controls.remove_button.isEnabled()

    with qtbot.waitSignal(controls.lockRequested) as locked:
        qtbot.mouseClick(controls.lock_button, Qt.MouseButton.LeftButton)
    assert locked.args == [True] and controls.lock_button.text() == "Unlock room"
    controls.set_locked(False)  # the server refused: back as it was, no second request
    assert not controls.lock_button.isChecked() and controls.lock_button.text() == "Lock room"


def test_removing_and_ending_ask_first(qtbot: QtBot) -> None:
    _box, listed, controls = panel(qtbot)
    listed.setCurrentRow(1)
    removed: list[str] = []
    ended: list[bool] = []
    controls.removeRequested.connect(removed.append)
    controls.endRequested.connect(lambda: ended.append(True))

    qtbot.mouseClick(controls.remove_button, Qt.MouseButton.LeftButton)
    question = controls.question
    assert question is not None and "Remove Guest 2 from the call?" in question.text()
    qtbot.waitExposed(question)
    qtbot.keyClick(question, Qt.Key.Key_Escape)  # changed their mind: nothing happens
    qtbot.waitUntil(lambda: controls.question is None)
    assert removed == []
    qtbot.mouseClick(controls.remove_button, Qt.MouseButton.LeftButton)
    question = controls.question
    assert question is not None
    qtbot.waitExposed(question)
    yes = question.button(QMessageBox.StandardButton.Yes)
    assert yes is not None and yes.text() == "&Remove"
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: removed == ["guest-2"])

    qtbot.mouseClick(controls.end_button, Qt.MouseButton.LeftButton)
    question = controls.question
    assert question is not None and "everyone" in question.text()
    qtbot.waitExposed(question)
    yes = question.button(QMessageBox.StandardButton.Yes)
    assert yes is not None
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ended == [True])

    controls.finish()
    assert not any(b.isEnabled() for b in (controls.mute_button, controls.lock_button,
                                           controls.end_button))
