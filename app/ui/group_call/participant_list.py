"""The side list of everyone in the group call: name, microphone state, speaking."""

from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from app.media.group_session import GroupParticipant


def describe(participant: GroupParticipant) -> str:
    name = f"{participant.display} (you)" if participant.me else participant.display
    parts = [name, "mic off" if participant.muted else "mic on"]
    if participant.talking:
        parts.append("speaking")
    if not participant.video:
        parts.append("no video")
    return " · ".join(parts)


class ParticipantList(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Participants")
        self.setMinimumWidth(220)

    def show_participants(self, participants: list[GroupParticipant]) -> None:
        self.clear()
        for participant in participants:
            item = QListWidgetItem(describe(participant))
            item.setToolTip(describe(participant))
            if participant.talking:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.addItem(item)
