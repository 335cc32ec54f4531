"""A message banner at the top of the main window: what the services tell the user."""

import html
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

_STYLES = {
    "info": ("Info", "#e8f1fb", "#1e4f8a"),
    "warning": ("Warning", "#fff4e0", "#7a4b00"),
    "error": ("Error", "#fdecea", "#8a1c12"),
}


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss message")
        close.clicked.connect(self.hide)
        #: The message's own action ("Undo"), shown only with a message that offers one.
        self.action_button = QPushButton(self)
        self.action_button.hide()
        self.action_button.clicked.connect(self._act)
        self._action: Callable[[], object] | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_info(self, text: str) -> None:
        self.show_message("info", text)

    def show_warning(self, text: str) -> None:
        self.show_message("warning", text)

    def show_error(self, text: str) -> None:
        self.show_message("error", text)

    def show_message(self, level: str, text: str, action: str = "",
                     act: Callable[[], object] | None = None) -> None:
        """Show `text`; with `action` and `act`, a button that does `act` and hides the banner."""
        title, background, foreground = _STYLES[level]
        self.setStyleSheet(
            f"#banner {{ background: {background}; border: 1px solid {foreground}; "
            f"border-radius: 4px; }} #banner QLabel {{ color: {foreground}; }}"
        )
        self.label.setText(f"<b>{title}:</b> {html.escape(text)}")
        self.setAccessibleDescription(f"{title}: {text}")
        self._action = act if action else None
        self.action_button.setText(action)
        self.action_button.setVisible(self._action is not None)
        self.show()
        if level == "info":
            # Long enough to read the message and reach its Undo.
            self._timer.start(20000 if self._action is not None else 8000)
        else:
            self._timer.stop()  # warnings and errors stay until dismissed

    def _act(self) -> None:
        action, self._action = self._action, None
        self.hide()
        if action is not None:
            action()
