"""The server's database session and what it does once it commits: tell the hub, wake the
invite worker and the outbound HL7 worker, close ended group calls' rooms.

Who gets told is given when the session is made (`ServerSession(engine, hub=..., ...)`); what
to tell collects in its `effects` during the transaction (server/realtime/notify.py,
server/services/invites.py, server/services/room_closing.py,
server/integration/hl7_outbound.py) and is acted on, or dropped on
rollback, by those modules' commit hooks. A plain sqlmodel Session has none of this: its
commits tell nobody.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from server.janus.rooms import GroupRooms
from server.realtime.delivery import Item
from server.realtime.hub import Hub

if TYPE_CHECKING:  # the sender imports this module
    from server.integration.hl7_outbound_sender import OutboundSender


@dataclass
class CommitEffects:
    """Whom this session's commits reach, and what the open transaction will tell them."""

    #: This process's hub (SQLite: told after commit; PostgreSQL: NOTIFY in the transaction).
    hub: Hub | None = None
    #: Wakes the invite worker (thread-safe); None: invites are off, none is queued.
    wake_invites: Callable[[], None] | None = None
    #: Where group calls' rooms live; None: group calls are off.
    rooms: GroupRooms | None = None
    #: Sends status changes of HL7-booked appointments back to the hospital; None: off.
    hl7_outbound: "OutboundSender | None" = None
    #: This transaction queued outbound HL7 messages (the sender is woken after commit).
    hl7_queued: bool = False
    #: The change log's head written by this transaction (SQLite).
    cursor: int | None = None
    #: Deliveries and revocations to dispatch after commit (SQLite).
    outbox: list[Item] = field(default_factory=list)
    invites_queued: bool = False
    #: Group appointments ended in this transaction whose rooms close after commit.
    closing_rooms: set[UUID] = field(default_factory=set)


class ServerSession(Session):
    """A session that knows whom its commits reach (the arguments default to nobody)."""

    def __init__(
        self,
        engine: Engine,
        *,
        hub: Hub | None = None,
        wake_invites: Callable[[], None] | None = None,
        rooms: GroupRooms | None = None,
        hl7_outbound: "OutboundSender | None" = None,
        **options: Any,
    ) -> None:
        super().__init__(engine, **options)
        self.effects = CommitEffects(
            hub=hub, wake_invites=wake_invites, rooms=rooms, hl7_outbound=hl7_outbound
        )


def effects_of(session: Session | OrmSession) -> CommitEffects | None:
    """The session's commit effects; None for a plain session (it tells nobody)."""
    return session.effects if isinstance(session, ServerSession) else None
