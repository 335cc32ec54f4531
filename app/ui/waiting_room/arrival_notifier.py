"""A patient enters the waiting room: a desktop notification naming them (tray message, with an
optional sound); without a system tray, the message bridge (the window's banner) says it."""

import logging
from datetime import datetime, timedelta
from uuid import UUID

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from app.services.message_bridge import MessageBridge
from app.views.date_text import time_text
from app.views.icons import icon
from app.views.schedule_model import ScheduleModel
from shared.clock import Clock
from shared.enums import AppointmentStatus

log = logging.getLogger("clinicdesk.ui")

SOUND_KEY = "notifications/arrival_sound"
#: A reconnect re-announces everyone waiting: the same patient is not announced twice in this.
QUIET_PERIOD = timedelta(minutes=10)


class ArrivalNotifier(QObject):
    def __init__(self, model: ScheduleModel, bridge: MessageBridge, settings: QSettings,
                 clock: Clock, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._bridge = bridge
        self._settings = settings
        self._clock = clock
        self._announced: dict[UUID, datetime] = {}
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon("app-icon"), self)
            self.tray.setToolTip("Clinic Desk")
            self.tray.show()
        #: The last announcement (for tests and the accessibility log).
        self.last_message = ""

    @property
    def sound(self) -> bool:
        return str(self._settings.value(SOUND_KEY, "false")).lower() == "true"

    def set_sound(self, on: bool) -> None:
        self._settings.setValue(SOUND_KEY, on)

    def arrival_changed(self, appointment_id: UUID, arrived_at: datetime | None) -> None:
        if arrived_at is None:
            return
        row = self._model.row_of(appointment_id)
        if row is None:
            return  # not on the schedule shown here (another day, another clinician)
        appointment = self._model.appointment_at(row)
        if appointment.status is not AppointmentStatus.SCHEDULED:
            return
        now = self._clock.now()
        last = self._announced.get(appointment_id)
        if last is not None and now - last < QUIET_PERIOD:
            return
        self._announced[appointment_id] = now
        start = time_text(appointment.start)
        self.last_message = (f"{appointment.patient.name} is in the waiting room "
                             f"({start} with {appointment.clinician.name}).")
        log.info("patient arrived for an appointment at %s", start)
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage("Patient waiting", self.last_message,
                                  QSystemTrayIcon.MessageIcon.Information, 10_000)
        else:
            self._bridge.info.emit(self.last_message)
        if self.sound:
            QApplication.beep()
