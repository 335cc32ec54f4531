"""The side list of everyone in the group call: name, microphone state, speaking."""

from PySide6.QtCore import Qt, Signal, Slot
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
    """The list; the selected participant (the room controls act on them) survives updates."""

    #: the selected participant, again after every update (None: nobody)
    chosenChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Participants")
        self.setMinimumWidth(220)
        self.participants: list[GroupParticipant] = []
        self.currentRowChanged.connect(self._row_changed)

    def selected(self) -> GroupParticipant | None:
        row = self.currentRow()
        return self.participants[row] if 0 <= row < len(self.participants) else None

    def show_participants(self, participants: list[GroupParticipant]) -> None:
        chosen = self.selected()
        self.blockSignals(True)
        self.clear()
        self.participants = list(participants)
        for row, participant in enumerate(participants):
            item = QListWidgetItem(describe(participant))
            item.setToolTip(describe(participant))
            item.setData(Qt.ItemDataRole.UserRole, participant.id)
            if participant.talking:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.addItem(item)
            if chosen is not None and participant.id == chosen.id:
                self.setCurrentRow(row)
        self.blockSignals(False)
        self.chosenChanged.emit(self.selected())

    @Slot(int)
    def _row_changed(self, _row: int) -> None:
        self.chosenChanged.emit(self.selected())
