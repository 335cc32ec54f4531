"""Who is in the virtual waiting room: presence events in, one Qt signal per change out."""

from datetime import datetime
from uuid import UUID

from PySide6.QtCore import QObject, Signal

from app.domain.events import PatientArrived, PatientLeft, PresenceEvent


class PresenceService(QObject):
    """Holds arrivals by appointment; the realtime connection (sync issue) feeds `apply`."""

    #: (appointment id, arrived_at or None when the patient left)
    presenceChanged = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._arrivals: dict[UUID, datetime] = {}

    def arrived_at(self, appointment_id: UUID) -> datetime | None:
        return self._arrivals.get(appointment_id)

    def arrivals(self) -> dict[UUID, datetime]:
        return dict(self._arrivals)

    def apply(self, event: PresenceEvent) -> None:
        if isinstance(event, PatientArrived):
            current = self._arrivals.get(event.appointment_id)
            if current is not None and current <= event.at:
                return  # a reconnect: the patient has waited since the first arrival
            self._arrivals[event.appointment_id] = event.at
            self.presenceChanged.emit(event.appointment_id, event.at)
        elif isinstance(event, PatientLeft):
            if self._arrivals.pop(event.appointment_id, None) is not None:
                self.presenceChanged.emit(event.appointment_id, None)

    def clear(self) -> None:
        """Forget every arrival (the realtime connection went: presence is unknown)."""
        for appointment_id in list(self._arrivals):
            del self._arrivals[appointment_id]
            self.presenceChanged.emit(appointment_id, None)
