"""The status bar's sync corner: online, offline or syncing; pending changes; refusals."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.sync.sync_status import Connection, SyncStatus
from app.views.date_text import time_text

_WORDS = {
    Connection.ONLINE: ("●", "#2e7d32", "Online"),
    Connection.SYNCING: ("◌", "#1565c0", "Syncing…"),
    Connection.OFFLINE: ("●", "#b26a00", "Offline"),
    Connection.SIGNED_OUT: ("●", "#c62828", "Signed out"),
    Connection.REFUSED: ("●", "#c62828", "Not syncing"),
}


def _changes(count: int) -> str:
    return f"{count} change{'s' if count != 1 else ''}"


class SyncStatusBar(QWidget):
    #: the user wants the list of refused changes
    attentionRequested = Signal()
    #: the user wants to sign in again
    signInRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.dot = QLabel(self)
        self.text = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(160)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.attention = QPushButton(self)
        self.attention.setFlat(True)
        self.attention.setStyleSheet("color: #c62828; font-weight: 600;")
        self.attention.clicked.connect(self.attentionRequested)
        self.attention.hide()
        self.sign_in = QPushButton("Sign in…", self)
        self.sign_in.clicked.connect(self.signInRequested)
        self.sign_in.hide()
        for widget in (self.dot, self.text, self.progress, self.attention, self.sign_in):
            layout.addWidget(widget)
        self.show_status(SyncStatus())

    def show_status(self, status: SyncStatus) -> None:
        dot, colour, word = _WORDS[status.connection]
        self.dot.setText(dot)
        self.dot.setStyleSheet(f"color: {colour};")
        parts = [word]
        if status.pending:
            parts.append(f"{_changes(status.pending)} waiting to be sent")
        if status.last_sync is not None:
            parts.append(f"last synced {time_text(status.last_sync)}")
        self.text.setText(" · ".join(parts))
        tooltip = status.message or {
            Connection.ONLINE: "Connected to the Clinic Desk server; everything is sent.",
            Connection.SYNCING: "Sending and receiving changes.",
            Connection.OFFLINE: "The server cannot be reached. Keep working: your changes are "
            "saved on this computer and sent when the connection is back.",
        }.get(status.connection, "")
        self.text.setToolTip(tooltip)
        self.text.setAccessibleName(f"Sync status: {self.text.text()}. {tooltip}")
        if status.progress is not None and status.progress[1] > 0:
            done, total = status.progress
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setToolTip(f"Receiving the schedule: {done:,} of {total:,}")
            self.progress.show()
        else:
            self.progress.hide()
        self.attention.setVisible(status.rejected > 0)
        self.attention.setText(f"⚠ {status.rejected} need{'s' if status.rejected == 1 else ''} "
                               "attention")
        self.attention.setToolTip("Changes the server refused: fix and retry, or discard them")
        self.sign_in.setVisible(status.connection is Connection.SIGNED_OUT)
