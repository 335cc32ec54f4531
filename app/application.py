"""The composition root: builds the store, services, models and windows, and wires them."""

import asyncio
import gc
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.policy.effective import EffectiveSetting
from app.policy.machine_policy import load_machine_policy
from app.services.account_service import Account, AccountService
from app.services.message_bridge import MessageBridge
from app.services.patient_contact import PatientContactService
from app.services.patient_service import PatientService
from app.services.schedule_service import ScheduleService
from app.services.settings_service import SettingsService
from app.services.sync_service import SyncService
from app.services.task_service import TaskService
from app.services.waiting_room_service import WaitingRoomService
from app.store.demo import CLINICIAN, seed_demo
from app.store.local_store import LocalStore
from app.sync.api_client import ApiClient
from app.ui.lock.idle_lock import IdleLock
from app.ui.patients.patients_controller import PatientsController
from app.ui.schedule.appointment_controller import AppointmentController
from app.ui.schedule.main_window import MainWindow
from app.ui.sync.sync_controls import SyncControls
from app.ui.tasks.tasks_controller import TasksController
from app.ui.waiting_room.arrival_notifier import ArrivalNotifier
from app.views.schedule_model import ScheduleModel
from shared.clock import Clock, ServerClock
from shared.events import PatientArrived

if TYPE_CHECKING:
    from app.services.call_service import CallService
    from app.services.group_call_service import GroupCallService
    from app.services.phone_call_service import PhoneCallService

log = logging.getLogger("clinicdesk.app")

NO_KEYCHAIN = (
    "This computer has no password keychain, so Clinic Desk cannot keep you signed in: when "
    "you next start it you will be asked for your password again (your server address and "
    "your unsent changes are kept). Ask your IT department to turn on the keychain "
    "(GNOME Keyring or KWallet) to stay signed in."
)


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
        self.demo = config.demo
        self.signed_in = signed_in
        if signed_in is not None:
            self.store = LocalStore(signed_in.account.store_path(config.data_dir), self.clock)
        else:
            store_name = "demo.sqlite3" if config.demo else "clinic-desk.sqlite3"
            self.store = LocalStore(config.data_dir / store_name, self.clock, local_only=True)
        self.bridge = MessageBridge(self)
        self.schedule = ScheduleService(self.store, self.bridge, self)
        self.waiting_room = WaitingRoomService(self)
        self.model = ScheduleModel(self.clock, self.waiting_room, self)
        self.policy = load_machine_policy()
        if self.policy.values:
            log.info("machine policy %s sets %s", self.policy.location,
                     ", ".join(sorted(self.policy.values)))
        self.settings_service = SettingsService(self.policy, config.settings, self)
        if signed_in is not None and config.demo:
            user = f"Signed in as {signed_in.account.user.full_name} (demo clinic)"
        elif signed_in is not None:
            user = f"Signed in as {signed_in.account.user.full_name}"
        elif config.demo:
            user = f"Signed in as {CLINICIAN.name} (demo clinic, this computer only)"
        else:
            user = "Local store"
        # Services first (nothing on screen yet), then the controllers that act on them, then
        # the window that lays them out: each is handed what it needs at construction.
        self.contact: PatientContactService | None = None
        self.sync: SyncService | None = None
        # Calls (aiortc, PyAV) are built once the first day is shown: `_build_calls`.
        self.calls: CallService | None = None
        self.group_calls: GroupCallService | None = None
        self.phone_calls: PhoneCallService | None = None
        self.tasks: TaskService | None = None
        self.tasks_controller: TasksController | None = None
        if signed_in is not None:
            self.contact = PatientContactService(signed_in.api, self.bridge, self)
            clock_for_sync = self.clock if isinstance(self.clock, ServerClock) else None
            self.sync = SyncService(self.store, signed_in.api, self.waiting_room,
                                    clock_for_sync, self)
            self.sync.directoryUpdated.connect(self.schedule.load_directory)
            self.tasks = TaskService(self.store, signed_in.account.user.id, self.bridge, self)
            self.tasks_controller = TasksController(self.tasks, self.schedule, self.bridge)
            self.model.calls_enabled = True
        user_id = None
        if signed_in is not None:
            user_id = signed_in.account.user.id
        elif config.demo:
            user_id = CLINICIAN.id
        self.appointments = AppointmentController(self.schedule, self.bridge, self.contact,
                                                  user_id)
        self.patients = PatientService(self.store, self.bridge, self)
        patients_controller = PatientsController(self.patients, self.appointments)
        self.window = MainWindow(
            self.schedule, self.model, self.bridge, config.settings, user, self.appointments,
            settings_service=self.settings_service, tasks=self.tasks_controller,
            patients=patients_controller,
        )
        self._settings = config.settings
        self._sync_on_show = False
        self._shut_down = False
        self.window.firstRangeShown.connect(self._first_range_shown)
        self.sync_controls: SyncControls | None = None
        if signed_in is not None:
            assert self.sync is not None
            self.sync_controls = SyncControls(
                self.window, self.sync, signed_in.account.label,
                self._sign_in_again, self._sign_out,
            )

        self.idle_lock = IdleLock(self.clock, self.window, self)
        if signed_in is not None:
            self.idle_lock.require_password(self._check_unlock)
        self._apply_settings(self.settings_service.effective())
        self.settings_service.settingsChanged.connect(self._apply_settings)

        self.schedule.appointmentChanged.connect(self.model.upsert)
        self.schedule.appointmentsSynced.connect(self.model.apply_sync)
        # The waiting room's one-second tick also notices midnight for the date navigator.
        self.waiting_room.ticked.connect(self._follow_today)

        if config.demo and signed_in is None:
            arrivals = self.store.run(lambda session: seed_demo(session, self.clock.now()))
            # Seeding is quick and happens once, before the first window paints.
            for arrival in arrivals.result():
                self.waiting_room.apply(PatientArrived(arrival.appointment_id, arrival.at))
        # After the demo's arrivals: those were there before the window opened.
        self.notifier = ArrivalNotifier(self.model, self.bridge, config.settings, self.clock,
                                        self)
        self.waiting_room.arrivalChanged.connect(self.notifier.arrival_changed)
        if self.sync_controls is not None:
            self.sync_controls.add_sound_toggle(self.notifier)

    def _apply_settings(self, settings: dict[str, EffectiveSetting]) -> None:
        """Settings that act while the app runs take effect at once (policy > user > default)."""
        self.idle_lock.set_minutes(int(settings["idle_lock_minutes"].value))
        if self.calls is not None:
            from app.services.call_service import CallConfig

            values = {k: v.value for k, v in settings.items()}
            self.calls.config = CallConfig.from_settings(values, demo=self.demo)

    def _first_range_shown(self) -> None:
        """The user sees the day: now load what can wait for it (once painted)."""
        QTimer.singleShot(0, self, self._behind_the_window)

    def _behind_the_window(self) -> None:
        if self._shut_down:
            return  # closed before the first day's turn came: nothing to load
        if self.signed_in is not None:
            self._build_calls()
        # Everything loaded so far (Qt, SQLAlchemy, pydantic, aiortc: ~half a million objects)
        # lives as long as the app: keep it out of the cyclic collector, whose full passes
        # over it stalled the GUI thread for ~100 ms during a sync.
        gc.collect()
        gc.freeze()

    def _build_calls(self) -> None:
        """The call and group call services and controllers. They import aiortc and PyAV
        (about half the start-up's imports), so they load behind the shown schedule."""
        from app.services.call_service import CallConfig, CallService
        from app.services.group_call_service import GroupCallService
        from app.services.phone_call_service import PhoneCallService
        from app.ui.call.call_controller import CallController
        from app.ui.group_call.group_call_controller import GroupCallController
        from app.ui.phone_call.phone_call_controller import PhoneCallController

        if self.calls is not None or self.sync is None:
            return
        values = {k: v.value for k, v in self.settings_service.effective().items()}
        self.calls = CallService(CallConfig.from_settings(values, demo=self.demo),
                                 self._settings, self.bridge, self)
        assert self.tasks_controller is not None
        calls = CallController(self.calls, self.sync, self.schedule, self.bridge,
                               self.tasks_controller.new_task)
        self.group_calls = GroupCallService(self.calls, self)
        group = GroupCallController(self.group_calls, self.sync, self.schedule, self.bridge)
        calls.group = group
        self.phone_calls = PhoneCallService(self.calls, self)
        phone = PhoneCallController(self.phone_calls, self.sync, self.bridge)
        calls.phone = phone
        phone.in_browser = calls.start_in_browser
        self.window.attach_calls(calls, self.calls)
        calls.inCallChanged.connect(self.idle_lock.hold)
        group.setParent(self.window)  # its window opens over the schedule
        group.inCallChanged.connect(self.idle_lock.hold)
        phone.setParent(self.window)  # its window opens over the schedule
        phone.inCallChanged.connect(self.idle_lock.hold)
        if self._sync_on_show:
            self._sync_on_show = False
            self.sync.start()

    def _follow_today(self) -> None:
        today = self.clock.now().astimezone().date()
        self.window.navigator.set_today(today)

    def start(self, sync: bool = True) -> None:
        """Show the window; `sync`: start syncing now (the demo starts it once signed in)."""
        self.window.restore_geometry()
        self.window.show()
        self.window.start()
        self.waiting_room.start()
        qt_app = QApplication.instance()
        if qt_app is not None:
            # Application-wide, so that input in any window (dialogs too) keeps the app open.
            qt_app.installEventFilter(self.idle_lock)
        self.idle_lock.start()
        # The sync (httpx) starts once the first day is shown, with the calls.
        self._sync_on_show = self.sync is not None and sync
        if self.signed_in is not None and self.signed_in.accounts.session_not_kept:
            self.bridge.warning.emit(NO_KEYCHAIN)

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
        self._shut_down = True
        self.waiting_room.stop()
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
        self.patients.close()
        if self.group_calls is not None:
            self.group_calls.close()
        if self.phone_calls is not None:
            self.phone_calls.close()
        if self.calls is not None:
            self.calls.close()
        if self.tasks is not None:
            self.tasks.close()
        self.store.close()
        log.info("shut down cleanly")
