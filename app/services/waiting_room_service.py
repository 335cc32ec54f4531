"""Who is in the virtual waiting room, since when, and the one-second tick their waiting time
counts by: the one owner of arrivals on the desktop.

The realtime connection (through the sync service) and the demo feed `apply`; the schedule
model asks `arrived_at` when it paints and repaints on `arrivalChanged` and `ticked`.
"""

from datetime import datetime
from uuid import UUID

from PySide6.QtCore import QObject, QTimer, Signal

from shared.events import PatientArrived, PatientLeft, WaitingRoomEvent

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
        self._people: dict[UUID, int] = {}
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MILLISECONDS)
        self._ticker.timeout.connect(self.ticked)

    # --- what the views ask ------------------------------------------------------------------
    def arrived_at(self, appointment_id: UUID) -> datetime | None:
        return self._arrivals.get(appointment_id)

    def people(self, appointment_id: UUID) -> int:
        """How many of the appointment's people are waiting (a group's; 0: nobody)."""
        return self._people.get(appointment_id, 0) if appointment_id in self._arrivals else 0

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
            counted = self._people.get(event.appointment_id)
            self._people[event.appointment_id] = event.people
            if current is not None and current <= event.at:
                # A reconnect: the patient has waited since the first arrival. Another of a
                # group's people came or went: the row says the new count.
                if counted != event.people:
                    self.arrivalChanged.emit(event.appointment_id, current)
                return
            self._arrivals[event.appointment_id] = event.at
            self.arrivalChanged.emit(event.appointment_id, event.at)
        elif isinstance(event, PatientLeft):
            self._people.pop(event.appointment_id, None)
            if self._arrivals.pop(event.appointment_id, None) is not None:
                self.arrivalChanged.emit(event.appointment_id, None)

    def clear(self) -> None:
        """Forget every arrival (the realtime connection went: presence is unknown)."""
        self._people.clear()
        for appointment_id in list(self._arrivals):
            del self._arrivals[appointment_id]
            self.arrivalChanged.emit(appointment_id, None)
