"""The main window: the Clinic Schedule with its date navigation, filter bar and actions.

It lays out and dispatches; the controllers it is given at construction act (appointments,
calls, tasks), and every message to the user comes through the message bridge.
"""

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.services.message_bridge import MessageBridge
from app.services.schedule_service import ScheduleService
from app.services.settings_service import SettingsService
from app.ui.common.banner import Banner
from app.ui.patients.patients_controller import PatientsController
from app.ui.schedule.actions_menu import (
    DEMO_KEYS,
    NO_SERVER,
    ActionKey,
    action_states,
    build_actions_menu,
    dials_phone,
)
from app.ui.schedule.appointment_controller import AppointmentController
from app.ui.schedule.appointment_dialog import AppointmentDialog
from app.ui.schedule.date_navigator import DateNavigator, Span
from app.ui.schedule.filter_bar import FilterBar
from app.ui.schedule.schedule_view import ScheduleView
from app.ui.tasks.tasks_controller import TasksController
from app.views.date_text import date_text, long_date_text, short_date_text
from app.views.icons import icon
from app.views.schedule_filter import ScheduleFilterProxy
from app.views.schedule_model import ScheduleModel
from shared.enums import AppointmentStatus, Role
from shared.records import NOT_INVITED, Appointment, StaffMember

if TYPE_CHECKING:
    # Calls and Settings load when first used: the first window does not wait for WebRTC.
    from app.services.call_service import CallService
    from app.ui.call.call_controller import CallController
    from app.ui.settings.settings_dialog import SettingsDialog

log = logging.getLogger("clinicdesk.ui")


_CALL_KEYS = (ActionKey.VIDEO_CALL, ActionKey.PHONE_CALL)
#: Signed in, and the calls not yet attached (the moment after the first day is shown).
CALLS_LOADING = "Calls are still starting: try again in a moment."


class ActionHandler(Protocol):
    """Carries out row actions the window itself does not know (the demo's)."""

    def trigger(self, key: ActionKey, appointment: Appointment) -> object: ...


def local_day_start(day: date) -> datetime:
    """Midnight of `day` in the workstation's time zone, as an aware datetime."""
    return datetime.combine(day, time(0, 0)).astimezone()


def standard_keys_and(standard: QKeySequence.StandardKey, key: str) -> list[QKeySequence]:
    """The platform's keys for `standard`, with `key` added where the platform lacks it."""
    keys = QKeySequence.keyBindings(standard)
    if QKeySequence(key) not in keys:
        keys.append(QKeySequence(key))
    return keys


class MainWindow(QMainWindow):
    #: the window was closed (the user quits)
    closed = Signal()
    #: the first day (or week) is in the model and laid out: what the user waited for at start
    firstRangeShown = Signal()

    def __init__(
        self,
        schedule: ScheduleService,
        model: ScheduleModel,
        bridge: MessageBridge,
        settings: QSettings,
        user_label: str,
        appointments: AppointmentController,
        parent: QWidget | None = None,
        *,
        settings_service: SettingsService | None = None,
        calls: "CallController | None" = None,
        call_service: "CallService | None" = None,
        tasks: TasksController | None = None,
        patients: PatientsController | None = None,
    ) -> None:
        super().__init__(parent)
        self.schedule = schedule
        self.bridge = bridge
        # The controllers act for this window: it adopts them, and their dialogs open over it.
        self.appointments = appointments
        #: Starts calls (None: not signed in to a server).
        self.calls = calls
        #: Calls' devices for Settings (None: not signed in to a server).
        self.call_service = call_service
        #: The Tasks view and task dialog (None: not signed in to a server).
        self.tasks = tasks
        #: The Patients view (works on the local store, signed in or not).
        self.patients = patients
        for controller in (appointments, calls, tasks, patients):
            if controller is not None:
                controller.setParent(self)
        #: The embedded demo's own row actions (set by app/demo; None outside the demo).
        self.demo_actions: ActionHandler | None = None
        self.settings_service = settings_service
        self.model = model
        self.settings = settings
        # Ending in the application's display name: Qt then does not append it a second time.
        self.setWindowTitle("Clinic Schedule — Clinic Desk")
        self.setWindowIcon(icon("app-icon"))
        self.resize(1180, 720)

        self.proxy = ScheduleFilterProxy(self)
        self.proxy.setSourceModel(model)
        self.view = ScheduleView(self)
        self.view.setModel(self.proxy)
        self.view.configure_columns()

        self.navigator = DateNavigator(schedule.now().astimezone().date(), self)
        self.filter_bar = FilterBar(self)
        self.banner = Banner(self)
        self.heading = QLabel(self)
        self.heading.setObjectName("heading")
        self.heading.setStyleSheet("#heading { font-size: 16pt; font-weight: 600; }")

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.heading)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.view, 1)
        self.setCentralWidget(central)

        self._build_actions()
        self._build_status_bar(user_label)
        if patients is not None:
            self.add_toolbar_action(patients.action)
        if tasks is not None:
            self.add_toolbar_action(tasks.action)

        # Signals from objects that outlive this window connect to its own methods (never to
        # lambdas): Qt drops those connections when the window is deleted.
        bridge.info.connect(self.banner.show_info)
        bridge.warning.connect(self.banner.show_warning)
        bridge.error.connect(self.banner.show_error)
        bridge.note.connect(self._show_note)
        appointments.saved.connect(self._show_saved)
        self._first_range_shown = False
        schedule.rangeLoaded.connect(self._range_loaded)
        schedule.directoryLoaded.connect(self._directory_loaded)
        self.navigator.rangeChanged.connect(self._load_range)
        self.filter_bar.filterChanged.connect(self.proxy.set_filter)
        # Counting walks the rows: coalesce the many change signals into one count per turn.
        # The toolbar follows the same signals: the selected row may turn Waiting, Taken or
        # Cancelled while it stays selected (a patient arrives, another desktop cancels).
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(0)
        self._counts_timer.timeout.connect(self._update_counts)
        self._counts_timer.timeout.connect(self._update_actions)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged, self.proxy.dataChanged):
            signal.connect(self._counts_timer.start)
        self.view.actionsRequested.connect(self._show_actions)
        self.view.openRequested.connect(appointments.edit)
        self.view.cancelRequested.connect(appointments.cancel)
        self.view.callRequested.connect(self.start_call)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._update_actions())

        self.filter_bar.restore(settings)
        span = str(settings.value("schedule/span", Span.DAY.value))
        if span == Span.WEEK.value:
            self.navigator.week_button.setChecked(True)
        self.setTabOrder(self.navigator.picker, self.filter_bar.text)
        self.setTabOrder(self.filter_bar.clinician, self.view)

    # --- building --------------------------------------------------------------------------
    def _build_actions(self) -> None:
        toolbar = QToolBar("Schedule", self)
        toolbar.setObjectName("schedule-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(toolbar)

        self.new_action = QAction("New appointment", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_action.setToolTip("Book a new appointment (Ctrl+N)")
        self.new_action.triggered.connect(lambda: self.new_appointment())
        self.edit_action = QAction("Edit", self)
        self.edit_action.setToolTip("Edit the selected appointment (Enter)")
        self.edit_action.triggered.connect(lambda: self._on_selected(self.appointments.edit))
        self.cancel_action = QAction("Cancel appointment", self)
        self.cancel_action.setToolTip("Cancel the selected appointment (Delete)")
        self.cancel_action.triggered.connect(
            lambda: self._on_selected(self.appointments.cancel))
        self.call_action = QAction(icon("kind-video"), "Start call", self)
        self.call_action.setEnabled(False)
        self.call_action.triggered.connect(lambda: self._on_selected(self.start_call))
        self.more_action = QAction(icon("actions"), "Actions", self)
        self.more_action.setToolTip("All actions for the selected appointment")
        self.more_action.triggered.connect(self._show_actions_for_selected)
        self.invite_all_action = QAction(icon("not-invited"), "Invite all not invited", self)
        self.invite_all_action.setToolTip(
            "Email an invite to every patient shown whose appointment the hospital system "
            "booked and nobody has invited yet")
        self.invite_all_action.triggered.connect(lambda: self.invite_all_not_invited())
        find = QAction("Find", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self._focus_filter)
        self.addAction(find)
        self.settings_action = QAction("Settings…", self)
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        # Ctrl+, everywhere (Windows and most Linux desktops name no Preferences key).
        shortcuts = standard_keys_and(QKeySequence.StandardKey.Preferences, "Ctrl+,")
        self.settings_action.setShortcuts(shortcuts)
        self.settings_action.setToolTip(
            "Server, call network, camera and idle lock "
            f"({shortcuts[0].toString(QKeySequence.SequenceFormat.NativeText)})")
        self.settings_action.setEnabled(self.settings_service is not None)
        self.settings_action.triggered.connect(lambda: self.open_settings())
        self.quit_action = QAction("Quit", self)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        # Ctrl+Q everywhere: Windows names no standard Quit key.
        self.quit_action.setShortcuts(standard_keys_and(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        # Closing the window is quitting: settings saved, then `closed` ends the application.
        self.quit_action.triggered.connect(self.close)
        self.addAction(self.quit_action)

        toolbar.addAction(self.new_action)
        toolbar.addAction(self.edit_action)
        toolbar.addAction(self.cancel_action)
        toolbar.addAction(self.call_action)
        toolbar.addAction(self.more_action)
        toolbar.addAction(self.invite_all_action)
        toolbar.addSeparator()
        toolbar.addWidget(self.navigator)
        spacer = QWidget(toolbar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addAction(self.settings_action)
        self.toolbar = toolbar
        self._update_actions()

    def add_toolbar_action(self, action: QAction) -> None:
        """An action of a feature that exists only when signed in (Tasks), before Settings."""
        self.toolbar.insertAction(self.settings_action, action)
        self.addAction(action)

    def _build_status_bar(self, user_label: str) -> None:
        self.counts = QLabel(self)
        self.statusBar().addWidget(self.counts, 1)
        self.statusBar().addPermanentWidget(QLabel(user_label, self))

    def _show_note(self, text: str, milliseconds: int) -> None:
        self.statusBar().showMessage(text, milliseconds)

    # --- range and counts ------------------------------------------------------------------
    def start(self) -> None:
        """Load what the window shows first (the directory and today)."""
        self.schedule.load_directory()
        first, days = self.navigator.current_range()
        self._load_range(first, days)

    def _load_range(self, first: date, days: int) -> None:
        start = local_day_start(first)
        end = local_day_start(first + timedelta(days=days))
        if days == 1:
            self.heading.setText(long_date_text(first))
        else:
            last = first + timedelta(days=days - 1)
            self.heading.setText(f"Week of {short_date_text(first)} – {date_text(last)}")
        self.schedule.load_range(start, end)

    def _range_loaded(
        self, start: datetime, end: datetime, appointments: list[Appointment]
    ) -> None:
        self.model.set_range(start, end, appointments, show_date=(end - start) > timedelta(days=1))
        self._update_actions()
        # Once the view has laid out the new rows; `self` as context: not run if it is gone.
        QTimer.singleShot(0, self, self._scroll_to_now)
        if not self._first_range_shown:
            self._first_range_shown = True
            QTimer.singleShot(0, self, self._log_first_range)

    def _log_first_range(self) -> None:
        # bench/packaging_bench.py measures the cold start up to this line.
        log.info("schedule shown: %d rows", self.proxy.rowCount())
        self.firstRangeShown.emit()

    def _directory_loaded(self, staff: list[StaffMember], _locations: object) -> None:
        self.filter_bar.set_clinicians([m for m in staff if m.role is Role.CLINICIAN])

    def _scroll_to_now(self) -> None:
        """On a range that holds the present, show the first appointment not yet over."""
        now = self.schedule.now()
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            appointment = self.model.appointment_at(self.proxy.mapToSource(index).row())
            if appointment.end > now:
                self.view.scrollTo(index, ScheduleView.ScrollHint.PositionAtTop)
                return

    def _update_counts(self) -> None:
        shown = self.proxy.rowCount()
        total = self.model.rowCount()
        waiting = self.model.waiting_count()
        early = self.model.early_count()
        noun = "appointment" if total == 1 else "appointments"
        text = f"{total} {noun}" if shown == total else f"{shown} of {total} shown"
        text = f"{text} · {waiting} waiting"
        self.counts.setText(f"{text} · {early} here early" if early else text)

    def _update_actions(self) -> None:
        appointment = self.view.current_appointment()
        scheduled = appointment is not None and appointment.status is AppointmentStatus.SCHEDULED
        self.edit_action.setEnabled(scheduled)
        self.cancel_action.setEnabled(scheduled)
        self.more_action.setEnabled(appointment is not None)
        call = None
        if appointment is not None:
            states = action_states(appointment, self.schedule.now(), self._server)
            call = next((s for s in states if s.enabled and s.key in _CALL_KEYS), None) or \
                next(s for s in states if s.key is ActionKey.VIDEO_CALL)
        self.call_action.setEnabled(self.calls is not None and call is not None and call.enabled)
        self.call_action.setToolTip(
            "Start the call with the selected patient" if self.call_action.isEnabled()
            else (call.reason if call is not None and call.reason
                  else "Select an appointment to call its patient"))

    def _focus_filter(self) -> None:
        self.filter_bar.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_bar.text.selectAll()

    # --- actions ---------------------------------------------------------------------------
    @property
    def _server(self) -> bool:
        """Signed in to a server: invites, links, messages, calls and tasks can work."""
        return self.appointments.contact is not None

    def _on_selected(self, handler: Callable[[Appointment], object]) -> None:
        appointment = self.view.current_appointment()
        if appointment is not None:
            handler(appointment)

    def open_settings(self) -> "SettingsDialog | None":
        from app.ui.settings.settings_dialog import SettingsDialog

        if self.settings_service is None:
            return None
        dialog = SettingsDialog(self.settings_service, self, calls=self.call_service)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.settingsSaved.connect(lambda _: self._show_note("Settings saved", 5000))
        dialog.open()
        return dialog

    def _show_actions_for_selected(self) -> None:
        appointment = self.view.current_appointment()
        if appointment is not None:
            rect = self.view.visualRect(self.view.currentIndex())
            self._show_actions(appointment, self.view.viewport().mapToGlobal(rect.center()))

    def _show_actions(self, appointment: Appointment, where: QPoint) -> None:
        menu = build_actions_menu(appointment, self.schedule.now(), self.trigger, self,
                                  server=self._server,
                                  demo=self.demo_actions is not None)
        menu.popup(where)

    def trigger(self, key: ActionKey, appointment: Appointment) -> None:
        """Carry out one menu action (disabled ones never get here)."""
        appointments = self.appointments
        if key is ActionKey.EDIT:
            appointments.edit(appointment)
        elif key is ActionKey.CANCEL:
            appointments.cancel(appointment)
        elif key is ActionKey.NO_SHOW:
            appointments.mark_no_show(appointment)
        elif key in _CALL_KEYS:
            self.start_call(appointment)
        elif key is ActionKey.CREATE_TASK and self.tasks is not None:
            self.tasks.new_task(appointment)
        elif key is ActionKey.ADD_TO_LIST and self.patients is not None:
            self.patients.add_to_list(appointment.patient)
        elif key is ActionKey.CALL_ATTEMPTS:
            appointments.phone_attempts(appointment)
        elif key in DEMO_KEYS and self.demo_actions is not None:
            self.demo_actions.trigger(key, appointment)
        elif key is ActionKey.RESEND_INVITE:
            appointments.resend_invite(appointment)
        elif key is ActionKey.COPY_LINK:
            appointments.copy_link(appointment)
        elif key is ActionKey.MESSAGE_PATIENT:
            appointments.message_patient(appointment)

    def not_invited_shown(self) -> list[Appointment]:
        """Scheduled appointments the filters show that the hospital system booked uninvited."""
        found = []
        for row in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(row, 0)).row()
            appointment = self.model.appointment_at(source)
            if appointment.invite_status == NOT_INVITED \
                    and appointment.status is AppointmentStatus.SCHEDULED:
                found.append(appointment)
        return found

    def invite_all_not_invited(self) -> None:
        """The toolbar's bulk invite: every not-invited appointment of the day shown."""
        contact = self.appointments.contact
        if contact is None:
            self.bridge.info.emit(NO_SERVER)
            return
        waiting = self.not_invited_shown()
        if not waiting:
            self.bridge.note.emit("Every appointment shown has been invited", 5000)
            return
        contact.invite_all(waiting)

    def attach_calls(self, calls: "CallController", call_service: "CallService") -> None:
        """Calls are ready (built once the first day is shown, see app/application.py)."""
        self.calls = calls
        self.call_service = call_service
        calls.setParent(self)
        self.view.rings_on_enter = self._rings_now
        self._update_actions()

    def _rings_now(self, appointment: Appointment) -> bool:
        """Enter on this row dials the patient's telephone: a phone appointment with a number,
        at or after its start, that may be called now."""
        if not dials_phone(appointment) or appointment.start > self.schedule.now():
            return False
        states = action_states(appointment, self.schedule.now(), self._server)
        return any(s.key is ActionKey.PHONE_CALL and s.enabled for s in states)

    def start_call(self, appointment: Appointment) -> object:
        """The row's call button, Enter on a waiting row, the toolbar or the menu."""
        if self.calls is None:
            self.bridge.info.emit(CALLS_LOADING if self._server else NO_SERVER)
            return None
        return self.calls.start(appointment)

    def new_appointment(self) -> AppointmentDialog:
        """Book on the day shown (9:00 on another day) for the clinician filtered on."""
        start = None
        first, days = self.navigator.current_range()
        if days == 1 and first != self.schedule.now().astimezone().date():
            start = local_day_start(first) + timedelta(hours=9)
        return self.appointments.new(start, self.proxy.current_filter.clinician_id)

    def _show_saved(self, saved: Appointment) -> None:
        """Show where a booked or edited appointment went, and select it."""
        day = saved.start.astimezone().date()
        first, days = self.navigator.current_range()
        if not first <= day < first + timedelta(days=days):
            self.navigator.set_date(day)
        QTimer.singleShot(0, self, lambda: self._select(saved))

    def _select(self, appointment: Appointment) -> None:
        row = self.model.row_of(appointment.id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)

    # --- closing ---------------------------------------------------------------------------
    def save_settings(self) -> None:
        self.filter_bar.save(self.settings)
        self.settings.setValue("schedule/span", self.navigator.span.value)
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()

    def restore_geometry(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()
