"""The window's sync controls: the status corner, Sync now, Needs attention, sign in and out."""

from collections.abc import Awaitable, Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QToolButton

from app.services.sync_service import SyncService
from app.sync.sync_status import Connection, SyncStatus
from app.ui.account.login_dialog import LoginDialog
from app.ui.schedule.main_window import MainWindow
from app.ui.sync.attention_dialog import AttentionDialog
from app.ui.sync.sync_status_bar import SyncStatusBar
from app.ui.waiting_room.arrival_notifier import ArrivalNotifier


class SyncControls(QObject):
    def __init__(
        self,
        window: MainWindow,
        sync: SyncService,
        account_label: str,
        sign_in_again: Callable[[str], Awaitable[None]],
        sign_out: Callable[[], None],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.sync = sync
        self._sign_in_again = sign_in_again
        self._sign_out = sign_out
        self._attention: AttentionDialog | None = None
        self.login: LoginDialog | None = None

        self.bar = SyncStatusBar(window)
        window.statusBar().addPermanentWidget(self.bar)
        self.bar.attentionRequested.connect(self.show_attention)
        self.bar.signInRequested.connect(self.ask_sign_in)

        self.sync_now_action = QAction("Sync now", self)
        self.sync_now_action.setShortcut(QKeySequence("F5"))
        self.sync_now_action.triggered.connect(sync.sync_now)
        self.attention_action = QAction("Needs attention…", self)
        self.attention_action.triggered.connect(self.show_attention)
        self.sign_out_action = QAction("Sign out", self)
        self.sign_out_action.triggered.connect(self.confirm_sign_out)
        self.menu = menu = QMenu(window)
        for action in (self.sync_now_action, self.attention_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.sign_out_action)
        self.account_button = QToolButton(window)
        self.account_button.setText("Account")
        self.account_button.setToolTip(f"{account_label}: sync now, needs attention, sign out")
        self.account_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.account_button.setMenu(menu)
        window.statusBar().addPermanentWidget(self.account_button)
        window.addAction(self.sync_now_action)

        sync.statusChanged.connect(self.show_status)
        sync.signInRequired.connect(self.ask_sign_in)

    def add_sound_toggle(self, notifier: ArrivalNotifier) -> None:
        """"Sound when a patient arrives", on the Account menu (remembered)."""
        self.sound_action = QAction("Sound when a patient arrives", self)
        self.sound_action.setCheckable(True)
        self.sound_action.setChecked(notifier.sound)
        self.sound_action.toggled.connect(notifier.set_sound)
        self.menu.insertAction(self.sign_out_action, self.sound_action)
        self.menu.insertSeparator(self.sign_out_action)

    def show_status(self, status: SyncStatus) -> None:
        self.bar.show_status(status)
        if self._attention is not None and status.connection is Connection.ONLINE:
            self._attention.reload()

    # --- needs attention -----------------------------------------------------------------------
    def show_attention(self) -> AttentionDialog:
        if self._attention is None:
            dialog = AttentionDialog(self.window.schedule, self.window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.editRequested.connect(self.window.appointments.edit_by_id)
            dialog.destroyed.connect(self._attention_closed)
            self._attention = dialog
        self._attention.show()
        self._attention.raise_()
        return self._attention

    def _attention_closed(self) -> None:
        self._attention = None

    # --- session -------------------------------------------------------------------------------
    def ask_sign_in(self, reason: str = "") -> LoginDialog:
        """The server ended the session: sign in again; unsent work stays and is sent after."""
        if self.login is None:
            api = self.sync.api
            dialog = LoginDialog(
                self._signed_in_again, api.server_url, server_locked_by="this session",
                username=api.username, username_fixed=True,
                reason=(reason or "Your session has ended. Please sign in again.")
                + "\n\nYour unsent changes are kept on this computer and sent once you have "
                "signed in.",
                parent=self.window,
            )
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(self._login_closed)
            self.login = dialog
        self.login.open()
        return self.login

    async def _signed_in_again(self, _server: str, _username: str, password: str) -> bool:
        await self._sign_in_again(password)
        return True

    def _login_closed(self) -> None:
        self.login = None

    def confirm_sign_out(self) -> None:
        pending = self.sync.status.pending
        if pending:
            answer = QMessageBox.question(
                self.window, "Sign out",
                f"{pending} change{'s are' if pending != 1 else ' is'} not yet on the server. "
                "They stay on this computer and are sent the next time you sign in here.\n\n"
                "Sign out anyway?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._sign_out()
