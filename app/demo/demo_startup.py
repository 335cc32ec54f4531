"""`clinic-desk --demo`: the whole clinic on this computer, from start to quit.

The embedded server starts in a child process (its URL is known at once: the port is bound
here), the window opens on the demo clinician's local store while the server starts
("connecting to the demo server"), then the desktop signs in through the real sign-in call
with the password the server handed over its pipe (kept in memory only: never the keychain),
syncs, and the simulated patients start arriving. Quitting ends both child processes; so does
this process dying (shared/parent_watch.py).
"""

import asyncio
import logging
import shutil
import time
from typing import Any

from PySide6.QtWidgets import QLabel

from app.application import AppConfig, Application, SignedIn
from app.demo.demo_actions import DemoActions
from app.demo.demo_processes import EmbeddedServer, ServerReady, SimulatedPatients
from app.media.ice_config import LOOPBACK
from app.services.account_service import Account, AccountService
from app.services.settings_service import GROUP
from app.sync.api_client import SignedInUser
from app.sync.token_store import MemoryTokenStore
from shared.demo_people import (
    DEMO_CLINICIAN_ID,
    DEMO_CLINICIAN_NAME,
    DEMO_CLINICIAN_USERNAME,
)
from shared.enums import Role
from shared.errors import KnownError

log = logging.getLogger("clinicdesk.demo")

CONNECTING = "Connecting to the demo server…"


class DemoStartup:
    def __init__(self, config: AppConfig, quit_event: asyncio.Event, reset: bool = False) -> None:
        self.folder = config.data_dir / "demo"
        self.config = AppConfig(self.folder, True, config.settings)
        self.quit_event = quit_event
        self.reset = reset
        self.server = EmbeddedServer(self.folder, reset)
        self.patients = SimulatedPatients(self.folder)
        self.application: Application | None = None
        self.actions: DemoActions | None = None
        self.server_label: QLabel | None = None
        self.ready: ServerReady | None = None

    async def run(self) -> None:
        started = time.monotonic()
        if self.reset:
            # The desktop's copy of the demo day goes with the server's.
            shutil.rmtree(self.folder / "accounts", ignore_errors=True)
        url = self.server.start()
        settings = self.config.settings
        if not settings.contains(f"{GROUP}/ice_interfaces"):
            # The simulated patients are on this computer: the demo's calls stay on loopback.
            settings.setValue(f"{GROUP}/ice_interfaces", [LOOPBACK])
        tokens = MemoryTokenStore()
        accounts = AccountService(settings, tokens)
        account = Account(url, SignedInUser(DEMO_CLINICIAN_ID, DEMO_CLINICIAN_USERNAME,
                                            DEMO_CLINICIAN_NAME, Role.CLINICIAN))
        api = accounts.client(account)
        application = self.application = Application(
            self.config, signed_in=SignedIn(account, api, accounts))
        window = application.window
        window.closed.connect(self.quit_event.set)
        if application.contact is not None:
            self.actions = DemoActions(application.contact, application.bridge, window)
            window.demo_actions = self.actions
        self.server_label = QLabel(CONNECTING, window)
        self.server_label.setObjectName("demoServer")
        window.statusBar().addPermanentWidget(self.server_label)
        application.bridge.info.emit(CONNECTING)
        application.start(sync=False)
        log.info("demo window shown %.2f s after start", time.monotonic() - started)
        try:
            ready = await self._server_ready()
            if ready is None:
                return  # the user quit while the server was starting
            await api.login(ready.password)
            user = await api.me()
        except KnownError as error:
            log.error("the demo server is not usable: %s", error)
            self.server_label.setText("Demo server: not running")
            application.bridge.error.emit(str(error))
            await self.quit_event.wait()
            return
        if user.id != DEMO_CLINICIAN_ID:
            raise RuntimeError(f"the demo server signed in someone else: {user.username}")
        self.ready = ready
        if self.actions is not None:
            self.actions.mail_dir = ready.mail_dir
        log.info("demo server ready at %s, signed in as %s, %.2f s after start",
                 url, user.full_name, time.monotonic() - started)
        self.server_label.setText(f"Demo server: {url}")
        self.server_label.setToolTip(
            f"The demo's own server on this computer. Invites go to {ready.mail_dir}; "
            f"its log is {self.server.log_path}.")
        application.bridge.info.emit(
            f"Demo clinic ready (server {url}). Patients arrive in the waiting room over the "
            "next minutes; a green row means they are waiting: press Enter to call them.")
        assert application.sync is not None
        application.sync.start()
        self.patients.start(url, ready.arrivals)
        await self.quit_event.wait()
        await application.stop_sync()

    async def _server_ready(self) -> ServerReady | None:
        """The server's ready message, or None once the user quits first."""
        ready: asyncio.Future[ServerReady] = asyncio.wrap_future(self.server.ready)
        quitting: asyncio.Future[object] = asyncio.ensure_future(self.quit_event.wait())
        waiting: set[asyncio.Future[Any]] = {ready, quitting}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        quitting.cancel()
        if not ready.done():
            ready.cancel()
            return None
        return ready.result()

    def shutdown(self) -> None:
        """Close the window, then end the patients and the server (each waits for its child)."""
        if self.application is not None:
            self.application.shutdown()
            self.application = None
        self.patients.stop()
        self.server.stop()
        log.info("demo stopped: server and patients ended")
