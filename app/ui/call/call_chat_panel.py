"""The in-call chat: the conversation so far and a line to type in."""

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

MAX_MESSAGE = 2000


class ChatPanel(QWidget):
    """Emits `sendRequested(text)`; the window answers with `add_own` or `not_sent`."""

    sendRequested = Signal(str)

    def __init__(self, other_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._other_name = other_name
        self.setMinimumWidth(240)
        title = QLabel("<b>Chat</b>", self)
        self.log = QTextBrowser(self)
        self.log.setOpenExternalLinks(False)
        self.log.setAccessibleName("Chat messages")
        self.entry = QLineEdit(self)
        self.entry.setPlaceholderText("Type a message")
        self.entry.setMaxLength(MAX_MESSAGE)
        self.entry.setAccessibleName("Chat message")
        self.send_button = QPushButton("Send", self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.hide()
        self.entry.returnPressed.connect(self._send)
        self.send_button.clicked.connect(self._send)
        row = QHBoxLayout()
        row.addWidget(self.entry, 1)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(title)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.status)
        layout.addLayout(row)

    @Slot()
    def _send(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.sendRequested.emit(text)

    def add_own(self, text: str) -> None:
        self.entry.clear()
        self.status.hide()
        self._append("You", text, "#1e4f8a")

    def not_sent(self) -> None:
        self.status.setText("Not sent: the connection is being restored. Try again shortly.")
        self.status.show()

    @Slot(str)
    def add_received(self, text: str) -> None:
        self._append(self._other_name, text, "#2d6a2d")

    def messages(self) -> list[str]:
        return [line for line in self.log.toPlainText().splitlines() if line]

    def _append(self, who: str, text: str, colour: str) -> None:
        self.log.append(
            f'<p><span style="color:{colour}; font-weight:bold">{html.escape(who)}:</span> '
            f"{html.escape(text)}</p>"
        )
        bar = self.log.verticalScrollBar()
        bar.setValue(bar.maximum())

    def focus_entry(self) -> None:
        self.entry.setFocus(Qt.FocusReason.ShortcutFocusReason)
