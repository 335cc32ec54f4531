"""Sign in to the Clinic Desk server: server address, username, password."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.schedule_service import report_unexpected
from shared.errors import KnownError

SignIn = Callable[[str, str, str], Awaitable[Any]]


class LoginDialog(QDialog):
    """Calls `sign_in(server_url, username, password)`; `result_value` holds what it returned."""

    def __init__(
        self,
        sign_in: SignIn,
        server_url: str,
        *,
        server_locked_by: str = "",
        username: str = "",
        username_fixed: bool = False,
        reason: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in to Clinic Desk")
        self.setMinimumWidth(420)
        self._sign_in = sign_in
        self.result_value: Any = None
        self._task: asyncio.Future[None] | None = None

        intro = QLabel(reason or "Sign in with your hospital account to see your clinic.", self)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.server = QLineEdit(server_url, self)
        self.server.setPlaceholderText("https://clinicdesk.hospital.example")
        if server_locked_by:
            self.server.setReadOnly(True)
            self.server.setToolTip(f"Set by your IT department ({server_locked_by}).")
        self.username = QLineEdit(username, self)
        self.username.setReadOnly(username_fixed)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()

        form = QFormLayout()
        form.addRow("&Server", self.server)
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Sign in")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        first_empty = next((w for w in (self.server, self.username, self.password)
                            if not w.text()), self.password)
        first_empty.setFocus()

    def _fail(self, message: str, field: QLineEdit) -> None:
        self.error.setText(message)
        self.error.show()
        field.setFocus()
        field.selectAll()

    def submit(self) -> None:
        self._task = asyncio.ensure_future(self._submit())

    async def _submit(self) -> None:
        server, username, password = (self.server.text().strip(), self.username.text().strip(),
                                      self.password.text())
        if not server.startswith(("http://", "https://")):
            self._fail("Enter the server's address, starting with https://", self.server)
            return
        if not username:
            self._fail("Enter your username.", self.username)
            return
        if not password:
            self._fail("Enter your password.", self.password)
            return
        self.buttons.setEnabled(False)
        self.error.setText("Signing in…")
        self.error.setStyleSheet("color: palette(text);")
        self.error.show()
        try:
            self.result_value = await self._sign_in(server, username, password)
        except KnownError as error:
            self.error.setStyleSheet("color: #b3261e;")
            self._fail(str(error), self.password)
            return
        except Exception as error:  # an unexpected failure goes to the crash handler
            report_unexpected(error)
            self._fail("Signing in failed unexpectedly; see the log.", self.password)
            return
        finally:
            self.buttons.setEnabled(True)
        self.password.clear()
        self.accept()
