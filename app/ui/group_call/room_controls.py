"""The clinician's room controls under the participant list: mute or remove the selected
participant, lock the room, end the call for everyone (the last two asked first)."""

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QPushButton, QVBoxLayout, QWidget

from app.media.group_session import GroupParticipant


def is_guest(participant: GroupParticipant | None) -> bool:
    """A participant the clinician may mute or remove (not staff, not this desktop)."""
    return participant is not None and not participant.me and participant.id.startswith("guest-")


class RoomControls(QWidget):
    """Says what the clinician asked for; the controller does it through the server."""

    #: (participant id, muted)
    muteRequested = Signal(str, bool)
    #: participant id, after the clinician confirmed
    removeRequested = Signal(str)
    #: locked
    lockRequested = Signal(bool)
    #: after the clinician confirmed
    endRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selected: GroupParticipant | None = None
        self.question: QMessageBox | None = None
        self.mute_button = QPushButton("Mute participant", self)
        self.remove_button = QPushButton("Remove…", self)
        self.lock_button = QPushButton("Lock room", self)
        self.lock_button.setCheckable(True)
        self.lock_button.setToolTip("Locked: nobody new can join; who was in may come back.")
        self.end_button = QPushButton("End for all…", self)
        # One column: a participant's name fits however narrow the side panel is.
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        for button in (self.mute_button, self.remove_button, self.lock_button, self.end_button):
            column.addWidget(button)
        self.mute_button.clicked.connect(self._mute)
        self.remove_button.clicked.connect(self._ask_remove)
        self.lock_button.toggled.connect(self._lock_toggled)
        self.end_button.clicked.connect(self._ask_end)
        self.select(None)

    def select(self, participant: GroupParticipant | None) -> None:
        """The participant selected in the list (None: nobody)."""
        self.selected = participant if is_guest(participant) else None
        chosen = self.selected
        for button in (self.mute_button, self.remove_button):
            button.setEnabled(chosen is not None)
        if chosen is None:
            self.mute_button.setText("Mute participant")
            self.remove_button.setText("Remove…")
            return
        self.mute_button.setText(f"{'Unmute' if chosen.muted else 'Mute'} {chosen.display}")
        self.remove_button.setText(f"Remove {chosen.display}…")

    def set_locked(self, locked: bool) -> None:
        """Shows the room's lock as the server has it (no signal)."""
        self.lock_button.blockSignals(True)
        self.lock_button.setChecked(locked)
        self.lock_button.blockSignals(False)
        self.lock_button.setText("Unlock room" if locked else "Lock room")

    def finish(self) -> None:
        """The call is over: nothing to control."""
        for button in (self.mute_button, self.remove_button, self.lock_button, self.end_button):
            button.setEnabled(False)

    def _mute(self) -> None:
        if self.selected is not None:
            self.muteRequested.emit(self.selected.id, not self.selected.muted)

    @Slot(bool)
    def _lock_toggled(self, locked: bool) -> None:
        self.lock_button.setText("Unlock room" if locked else "Lock room")
        self.lockRequested.emit(locked)

    def _ask_remove(self) -> None:
        chosen = self.selected
        if chosen is None:
            return
        self._ask(
            f"Remove {chosen.display} from the call?",
            "Their link will no longer open this call.",
            "&Remove",
            lambda: self.removeRequested.emit(chosen.id),
        )

    def _ask_end(self) -> None:
        self._ask(
            "End the call for everyone?",
            "Everyone is sent away and nobody can join this call again.",
            "&End for all",
            self.endRequested.emit,
        )

    def _ask(self, title: str, text: str, action: str, then: object) -> None:
        if self.question is not None:
            return  # already asking
        box = QMessageBox(
            QMessageBox.Icon.Question, title, title,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText(text)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText(action)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(answer: int) -> None:
            self.question = None
            if answer == QMessageBox.StandardButton.Yes and callable(then):
                then()

        box.finished.connect(answered)
        self.question = box
        box.open()
