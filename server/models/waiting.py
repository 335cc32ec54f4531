"""The waiting-room visit table: when each waiting patient arrived, kept across server restarts."""

from datetime import datetime
from uuid import UUID

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime


class WaitingVisit(ServerTable, table=True):
    """The patient of an appointment is (or was until `seen_at`) in the waiting room.

    A server that restarts finds the arrival here when the page reconnects, so "You have been
    waiting" and the desktop's waiting time go on from the first arrival. The row goes when the
    patient leaves; a row not seen for a while (the server died, the patient closed the page
    meanwhile) is a new visit.
    """

    __tablename__ = "waiting_visit"

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True, ondelete="CASCADE")
    arrived_at: datetime = Field(sa_type=UTCDateTime)
    #: When a page of this visit was last heard (refreshed about once a minute).
    seen_at: datetime = Field(sa_type=UTCDateTime)
