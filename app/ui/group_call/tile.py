"""One tile of the gallery: a participant's video (or their name), mic state, and a frame that
lights up while they speak."""

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.media.group_session import GroupParticipant
from app.ui.call.video_widget import VideoWidget

_SPEAKING = "Tile { border: 3px solid #2e7d32; border-radius: 6px; background: #111; }"
_QUIET = "Tile { border: 3px solid #333; border-radius: 6px; background: #111; }"


class Tile(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.participant_id: str | None = None
        self.video = VideoWidget("", self)
        self.name_label = QLabel(self)
        self.name_label.setStyleSheet("color: white; font-weight: bold;")
        self.mic_label = QLabel(self)
        self.mic_label.setStyleSheet("color: #ffb4a9;")
        footer = QHBoxLayout()
        footer.addWidget(self.name_label, 1)
        footer.addWidget(self.mic_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.video, 1)
        layout.addLayout(footer)
        self.speaking = False
        self.setStyleSheet(_QUIET)

    def show_participant(self, participant: GroupParticipant | None, speaker: bool) -> None:
        """Who this tile is for now (None: an empty slot, hidden)."""
        changed = participant is None or participant.id != self.participant_id
        self.participant_id = participant.id if participant else None
        self.setVisible(participant is not None)
        if participant is None:
            return
        if changed:
            self.video.show_text(participant.display if not participant.video else "")
        if not participant.video:
            self.video.show_text(participant.display)
        self.name_label.setText(participant.display)
        self.mic_label.setText("Muted" if participant.muted else "")
        self.speaking = participant.talking or speaker
        self.setStyleSheet(_SPEAKING if self.speaking else _QUIET)
        state = "speaking" if participant.talking else ("muted" if participant.muted else "")
        self.setAccessibleName(f"{participant.display} {state}".strip())

    def show_image(self, image: QImage) -> None:
        self.video.show_image(image)
