"""Who is connected where, shared by every server process on PostgreSQL: processes, pages, calls.

Times here are the database's own clock (liveness), never the app's clock (which tests fix):
a process is alive while `expires_at` is ahead of the database's now, and everything it held
(pages, calls) goes with it. SQLite (one process) keeps these in memory instead and leaves the
tables empty.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Text
from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime


class ServerProcess(ServerTable, table=True):
    """One running server process; it renews `expires_at` every second or so."""

    __tablename__ = "server_process"

    id: UUID = Field(primary_key=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class PresenceRoom(ServerTable, table=True):
    """An appointment with a waiting-room page open somewhere, and what was last announced."""

    __tablename__ = "presence_room"

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True, ondelete="CASCADE")
    #: The patient's arrival (the app's clock, from WaitingVisit); None until decided.
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The count of people last announced ("3 of 8 waiting"); 0: nothing announced yet.
    people: int = 0
    #: Messages from the clinician kept for a page that reloads (a JSON list of events).
    messages: str = Field(default="[]", sa_type=Text)


class PresencePage(ServerTable, table=True):
    """One open waiting-room page (socket) of an appointment, on one process."""

    __tablename__ = "presence_page"

    #: The socket's connection id (server/realtime/hub.py).
    id: UUID = Field(primary_key=True)
    appointment_id: UUID = Field(
        foreign_key="presence_room.appointment_id", index=True, ondelete="CASCADE"
    )
    #: Whose link: 0 the patient, n a group's n-th participant.
    person: int = 0
    process_id: UUID = Field(index=True)
    #: Set once the socket closed: the page still counts until then (a reload is no leaving).
    until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The page itself closed or went silent (the patient left); False: its process stopped.
    closed: bool = False


class CallOwner(ServerTable, table=True):
    """Who has taken an appointment's 1:1 call: the desktop connection, its user, its process."""

    __tablename__ = "call_owner"

    appointment_id: UUID = Field(foreign_key="appointment.id", primary_key=True, ondelete="CASCADE")
    connection_id: UUID = Field(index=True)
    user_id: UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")
    process_id: UUID = Field(index=True)
    claimed_at: datetime = Field(sa_type=UTCDateTime)
