"""The group call's chat to everyone: the messages (name, time, text; never markup) and a line
to write in, sent with Enter."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.media.group_chat import MAX_CHAT_TEXT, ChatMessage
from app.views.date_text import time_text


def chat_line(message: ChatMessage) -> str:
    """How a message reads in the list (plain text: a list item never renders markup)."""
    who = "You" if message.mine else message.display
    return f"{who} · {time_text(message.at)}\n{message.text}"


class ChatPanel(QWidget):
    """Shows the messages; says what the clinician wrote (the window hands it to the service)."""

    #: the text to send to everyone
    sendRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("Chat to everyone", self)
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.messages = QListWidget(self)
        self.messages.setAccessibleName("Chat messages")
        self.messages.setWordWrap(True)
        self.messages.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.messages.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.messages.setSpacing(3)
        self.entry = QLineEdit(self)
        self.entry.setAccessibleName("Message to everyone")
        self.entry.setPlaceholderText("Message to everyone")
        self.entry.setMaxLength(MAX_CHAT_TEXT)
        self.send_button = QPushButton("Send", self)
        self.state = QLabel("The chat opens once you are in the call.", self)
        self.state.setWordWrap(True)
        line = QHBoxLayout()
        line.addWidget(self.entry, 1)
        line.addWidget(self.send_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(title)
        column.addWidget(self.messages, 1)
        column.addLayout(line)
        column.addWidget(self.state)
        self.entry.returnPressed.connect(self._send)
        self.send_button.clicked.connect(self._send)
        self.set_ready(False)

    def set_ready(self, ready: bool, state: str = "") -> None:
        """Whether messages can be sent now, and what to say otherwise."""
        self.entry.setEnabled(ready)
        self.send_button.setEnabled(ready)
        if ready:
            self.state.hide()
        elif state:
            self.state.setText(state)
            self.state.show()

    def add_message(self, message: ChatMessage) -> None:
        item = QListWidgetItem(chat_line(message))
        item.setToolTip(message.text)
        self.messages.addItem(item)
        self.messages.scrollToBottom()

    def sent(self) -> None:
        """The message went out: the line is cleared for the next one."""
        self.entry.clear()
        self.entry.setEnabled(True)
        self.send_button.setEnabled(True)
        self.entry.setFocus()

    def not_sent(self, reason: str) -> None:
        """Kept in the line to try again, with the reason."""
        self.entry.setEnabled(True)
        self.send_button.setEnabled(True)
        self.state.setText(f"Your message was not sent: {reason}")
        self.state.show()

    def _send(self) -> None:
        text = self.entry.text().strip()
        if not text or not self.entry.isEnabled():
            return
        self.entry.setEnabled(False)
        self.send_button.setEnabled(False)
        self.state.hide()
        self.sendRequested.emit(text)
