"""From start to quit: sign in (or pick up the remembered session), run the window, and after
a sign-out ask again. The demo runs without a server and skips all of this."""

import asyncio
import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.application import AppConfig, Application, SignedIn
from app.policy.machine_policy import load_machine_policy
from app.services.account_service import AccountService
from app.services.settings_service import SettingsService
from app.ui.account.login_dialog import LoginDialog

log = logging.getLogger("clinicdesk.app")


class Startup:
    def __init__(self, config: AppConfig, quit_event: asyncio.Event) -> None:
        self.config = config
        self.quit_event = quit_event
        self.accounts = AccountService(config.settings)
        self.application: Application | None = None
        self.dialog: LoginDialog | None = None

    async def run(self) -> None:
        remembered = self.accounts.remembered()
        signed_in = None
        if remembered is not None:
            log.info("resuming the remembered session")
            signed_in = SignedIn(remembered, self.accounts.client(remembered), self.accounts)
        while not self.quit_event.is_set():
            if signed_in is None:
                signed_in = await self.ask_sign_in()
                if signed_in is None:
                    return
            application = self.application = Application(self.config, signed_in=signed_in)
            signed_out = asyncio.Event()
            application.signedOut.connect(signed_out.set)
            application.window.closed.connect(self.quit_event.set)
            application.start()
            if self.dialog is not None:
                self.dialog.close()
            quit_wait = asyncio.ensure_future(self.quit_event.wait())
            out_wait = asyncio.ensure_future(signed_out.wait())
            await asyncio.wait({quit_wait, out_wait}, return_when=asyncio.FIRST_COMPLETED)
            quit_wait.cancel()
            out_wait.cancel()
            if signed_out.is_set():
                # Ask again before the window goes, so the app does not quit in between.
                signed_in = None
                self.show_sign_in()
                application.window.closed.disconnect(self.quit_event.set)
                application.shutdown()
                self.application = None
                continue
            await application.stop_sync()
            return

    def show_sign_in(self) -> LoginDialog:
        settings = SettingsService(load_machine_policy(), self.config.settings)
        server = settings.effective()["server_url"]
        # The machine's (or the user's) setting first; else the server of the last sign-in.
        address = str(server.value or "") or self.accounts.last_server_url()
        dialog = LoginDialog(
            self._sign_in, address,
            server_locked_by=server.note if server.locked else "",
            username=self.accounts.last_username(),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.show()
        return dialog

    async def ask_sign_in(self) -> SignedIn | None:
        dialog = self.dialog if self.dialog is not None and self.dialog.isVisible() \
            else self.show_sign_in()
        finished: asyncio.Future[int] = asyncio.get_event_loop().create_future()

        def done(result: int) -> None:
            if not finished.done():
                finished.set_result(result)

        dialog.finished.connect(done)
        result = await finished
        self.dialog = None
        if result != QDialog.DialogCode.Accepted or dialog.result_value is None:
            return None
        value: SignedIn = dialog.result_value
        return value

    async def _sign_in(self, server_url: str, username: str, password: str) -> SignedIn:
        account, api = await self.accounts.sign_in(server_url, username, password)
        return SignedIn(account, api, self.accounts)

    def shutdown(self) -> None:
        if self.application is not None:
            self.application.shutdown()
            self.application = None
