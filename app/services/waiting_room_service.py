"""Who is in the virtual waiting room, since when, and the one-second tick their waiting time
counts by: the one owner of arrivals on the desktop.

The realtime connection (through the sync service) and the demo feed `apply`; the schedule
model asks `arrived_at` when it paints and repaints on `arrivalChanged` and `ticked`.
"""

from datetime import datetime
from uuid import UUID

from PySide6.QtCore import QObject, QTimer, Signal

from app.domain.events import PatientArrived, PatientLeft, WaitingRoomEvent

#: How often waiting times count on (and early arrivals are checked against the start).
TICK_MILLISECONDS = 1000


class WaitingRoomService(QObject):
    """Holds arrivals by appointment and ticks once a second while started."""

    #: (appointment id, arrived_at or None when the patient left)
    arrivalChanged = Signal(object, object)
    #: a second passed: waiting times count on
    ticked = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._arrivals: dict[UUID, datetime] = {}
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MILLISECONDS)
        self._ticker.timeout.connect(self.ticked)

    # --- what the views ask ------------------------------------------------------------------
    def arrived_at(self, appointment_id: UUID) -> datetime | None:
        return self._arrivals.get(appointment_id)

    def arrivals(self) -> dict[UUID, datetime]:
        return dict(self._arrivals)

    # --- the tick ------------------------------------------------------------------------------
    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    @property
    def ticking(self) -> bool:
        return self._ticker.isActive()

    # --- what the realtime connection says -----------------------------------------------------
    def apply(self, event: WaitingRoomEvent) -> None:
        if isinstance(event, PatientArrived):
            current = self._arrivals.get(event.appointment_id)
            if current is not None and current <= event.at:
                return  # a reconnect: the patient has waited since the first arrival
            self._arrivals[event.appointment_id] = event.at
            self.arrivalChanged.emit(event.appointment_id, event.at)
        elif isinstance(event, PatientLeft):
            if self._arrivals.pop(event.appointment_id, None) is not None:
                self.arrivalChanged.emit(event.appointment_id, None)

    def clear(self) -> None:
        """Forget every arrival (the realtime connection went: presence is unknown)."""
        for appointment_id in list(self._arrivals):
            del self._arrivals[appointment_id]
            self.arrivalChanged.emit(appointment_id, None)
