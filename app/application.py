"""The composition root: builds the store, services, models and windows, and wires them."""

import asyncio
import gc
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.domain.clock import Clock, ServerClock
from app.domain.events import PatientArrived
from app.policy.effective import EffectiveSetting
from app.policy.machine_policy import load_machine_policy
from app.services.account_service import Account, AccountService
from app.services.call_service import CallConfig, CallService
from app.services.group_call_service import GroupCallService
from app.services.message_bridge import MessageBridge
from app.services.patient_contact import PatientContactService
from app.services.presence_service import PresenceService
from app.services.schedule_service import ScheduleService
from app.services.settings_service import SettingsService
from app.services.sync_service import SyncService
from app.services.task_service import TaskService
from app.store.demo import CLINICIAN, seed_demo
from app.store.local_store import LocalStore
from app.sync.api_client import ApiClient
from app.ui.arrival_notifier import ArrivalNotifier
from app.ui.call_controller import CallController
from app.ui.group_call.group_call_controller import GroupCallController
from app.ui.idle_lock import IdleLock
from app.ui.main_window import MainWindow
from app.ui.sync_controls import SyncControls
from app.ui.tasks_controller import TasksController
from app.views.schedule_model import ScheduleModel

log = logging.getLogger("clinicdesk.app")


@dataclass(frozen=True, slots=True)
class AppConfig:
    data_dir: Path
    demo: bool
    settings: QSettings


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The account this window works for, and its API client (signed in or restored)."""

    account: Account
    api: ApiClient
    accounts: AccountService


class Application(QObject):
    """Owns every long-lived object of the desktop, from start to shutdown."""

    #: the user signed out: the startup shows the sign-in again
    signedOut = Signal()

    def __init__(
        self, config: AppConfig, clock: Clock | None = None, signed_in: SignedIn | None = None
    ) -> None:
        super().__init__()
        self.clock = clock or ServerClock()
        self.signed_in = signed_in
        if signed_in is not None:
            self.store = LocalStore(signed_in.account.store_path(config.data_dir), self.clock)
        else:
            store_name = "demo.sqlite3" if config.demo else "clinic-desk.sqlite3"
            self.store = LocalStore(config.data_dir / store_name, self.clock, local_only=True)
        self.bridge = MessageBridge(self)
        self.schedule = ScheduleService(self.store, self.bridge, self)
        self.presence = PresenceService(self)
        self.model = ScheduleModel(self.clock, self)
        self.policy = load_machine_policy()
        if self.policy.values:
            log.info("machine policy %s sets %s", self.policy.location,
                     ", ".join(sorted(self.policy.values)))
        self.settings_service = SettingsService(self.policy, config.settings, self)
        if signed_in is not None:
            user = f"Signed in as {signed_in.account.user.full_name}"
        elif config.demo:
            user = f"Signed in as {CLINICIAN.name} (demo clinic, this computer only)"
        else:
            user = "Local store"
        self.contact = None if signed_in is None else \
            PatientContactService(signed_in.api, self.bridge, self)
        self.window = MainWindow(self.schedule, self.model, self.bridge, config.settings, user,
                                 settings_service=self.settings_service, contact=self.contact)
        self.sync: SyncService | None = None
        self.sync_controls: SyncControls | None = None
        if signed_in is not None:
            clock_for_sync = self.clock if isinstance(self.clock, ServerClock) else None
            self.sync = SyncService(self.store, signed_in.api, self.presence, clock_for_sync,
                                    self)
            self.sync.directoryUpdated.connect(self.schedule.load_directory)
            self.sync_controls = SyncControls(
                self.window, self.sync, signed_in.account.label,
                self._sign_in_again, self._sign_out,
            )

        self.idle_lock = IdleLock(self.clock, self.window, self)
        self.calls: CallService | None = None
        self.group_calls: GroupCallService | None = None
        self.tasks: TaskService | None = None
        if signed_in is not None:
            self.idle_lock.require_password(self._check_unlock)
            assert self.sync is not None
            values = {k: v.value for k, v in self.settings_service.effective().items()}
            self.calls = CallService(CallConfig.from_settings(values), config.settings,
                                     self.bridge, self)
            self.window.call_service = self.calls
            self.tasks = TaskService(self.store, signed_in.account.user.id, self.bridge, self)
            tasks = TasksController(self.window, self.tasks, self.schedule)
            self.window.task_maker = tasks
            self.window.calls = CallController(self.window, self.calls, self.sync,
                                               self.schedule, self.idle_lock, tasks.new_task)
            self.group_calls = GroupCallService(self.calls, self)
            self.window.calls.group = GroupCallController(
                self.window, self.group_calls, self.sync, self.schedule, self.idle_lock)
            self.model.calls_enabled = True
        self._apply_settings(self.settings_service.effective())
        self.settings_service.settingsChanged.connect(self._apply_settings)

        self.schedule.appointmentChanged.connect(self.model.upsert)
        self.schedule.appointmentsSynced.connect(self.model.apply_sync)
        self.presence.presenceChanged.connect(self.model.set_arrival)
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self._tick)

        if config.demo:
            arrivals = self.store.run(lambda session: seed_demo(session, self.clock.now()))
            # Seeding is quick and happens once, before the first window paints.
            for arrival in arrivals.result():
                self.presence.apply(PatientArrived(arrival.appointment_id, arrival.at))
        # After the demo's arrivals: those were there before the window opened.
        self.notifier = ArrivalNotifier(self.model, self.window, config.settings, self.clock,
                                        self)
        self.presence.presenceChanged.connect(self.notifier.presence_changed)
        if self.sync_controls is not None:
            self.sync_controls.add_sound_toggle(self.notifier)

    def _apply_settings(self, settings: dict[str, EffectiveSetting]) -> None:
        """Settings that act while the app runs take effect at once (policy > user > default)."""
        self.idle_lock.set_minutes(int(settings["idle_lock_minutes"].value))
        if self.calls is not None:
            values = {k: v.value for k, v in settings.items()}
            self.calls.config = CallConfig.from_settings(values)

    def _tick(self) -> None:
        self.model.tick()
        today = self.clock.now().astimezone().date()
        self.window.navigator.set_today(today)

    def start(self) -> None:
        self.window.restore_geometry()
        self.window.show()
        self.window.start()
        self.ticker.start()
        qt_app = QApplication.instance()
        if qt_app is not None:
            # Application-wide, so that input in any window (dialogs too) keeps the app open.
            qt_app.installEventFilter(self.idle_lock)
        self.idle_lock.start()
        if self.sync is not None:
            self.sync.start()
        # Everything loaded so far (Qt, SQLAlchemy, pydantic, aiortc: ~half a million objects)
        # lives as long as the app: keep it out of the cyclic collector, whose full passes
        # over it stalled the GUI thread for ~100 ms during a sync.
        gc.collect()
        gc.freeze()

    def _check_unlock(self, password: str) -> bool:
        assert self.signed_in is not None
        return self.signed_in.accounts.check_unlock(self.signed_in.account, password)

    async def _sign_in_again(self, password: str) -> None:
        assert self.signed_in is not None and self.sync is not None
        await self.signed_in.api.login(password)
        self.signed_in.accounts.remember_unlock(self.signed_in.account, password)
        self.sync.resume()

    def _sign_out(self) -> None:
        self._sign_out_task = asyncio.ensure_future(self._signing_out())

    async def _signing_out(self) -> None:
        assert self.signed_in is not None
        if self.sync is not None:
            await self.sync.stop()
        try:
            await self.signed_in.accounts.sign_out(self.signed_in.api)
        finally:
            await self.stop_sync()
            self.signedOut.emit()

    async def stop_sync(self) -> None:
        """Stop the sync tasks and close the HTTP client (before shutdown)."""
        if self.sync is not None:
            await self.sync.stop()
        if self.signed_in is not None:
            await self.signed_in.api.close()

    def shutdown(self) -> None:
        self.ticker.stop()
        self.idle_lock.stop()
        qt_app = QApplication.instance()
        if qt_app is not None:
            qt_app.removeEventFilter(self.idle_lock)
        self.window.save_settings()
        # Qt, not Python's garbage collector, frees the window: a shown widget freed from Python
        # while Qt still has timers or animations for it can crash (seen in tests).
        self.window.close()
        self.window.deleteLater()
        self.schedule.close()
        if self.group_calls is not None:
            self.group_calls.close()
        if self.calls is not None:
            self.calls.close()
        if self.tasks is not None:
            self.tasks.close()
        self.store.close()
        log.info("shut down cleanly")
