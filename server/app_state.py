"""The server's long-lived parts in one typed object: built by create_app, read by routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

if TYPE_CHECKING:  # the parts import the routes' helpers; the types are all this needs
    from sqlalchemy import Engine

    from server.integration.hl7_outbound_sender import OutboundSender
    from server.integration.mllp_listener import MllpListener
    from server.janus.rooms import GroupRooms
    from server.realtime.hub import Hub
    from server.realtime.process_lease import ProcessLease
    from server.realtime.waiting_rooms import WaitingRooms
    from server.security.client_address import Network
    from server.security.passwords import Passwords
    from server.security.rate_limit import LoginThrottle, SlidingWindow
    from server.services.invite_sender import InviteSender
    from server.services.phone_calls import PhoneCalls
    from server.settings import Settings
    from shared.clock import Clock


@dataclass(slots=True)
class AppState:
    """What one server process holds for all its requests and sockets."""

    settings: Settings
    engine: Engine
    clock: Clock
    #: This process's realtime connections (desktops and patient pages).
    hub: Hub
    passwords: Passwords
    #: Sign-in throttling per account and address.
    limiter: LoginThrottle
    #: Wrong patient links per address.
    join_limiter: SlidingWindow
    #: Proxies whose X-Forwarded-For is believed (client_address.py).
    trusted_proxies: list[Network]
    #: Who is waiting: in memory (SQLite) or shared through PostgreSQL (waiting_rooms.py).
    waiting_room: WaitingRooms
    #: None: group calls are off (no Janus set up).
    group_rooms: GroupRooms | None
    #: None: invites are off (no SMTP server nor pickup folder set up).
    invite_sender: InviteSender | None
    #: None: outbound HL7 is off (no hl7_outbound_port set up).
    hl7_outbound: OutboundSender | None
    #: The phone calls this process is carrying (Janus's SIP plugin; phone_dialling.py).
    phone_calls: PhoneCalls
    #: This process's lease in PostgreSQL (what it holds dies with it); None on SQLite.
    lease: ProcessLease | None = None
    #: The HL7 MLLP listener once started (serve --mllp-port).
    mllp: MllpListener | None = None


def state_of(app: Starlette) -> AppState:
    """The state create_app gave `app` (the FHIR sub-application shares it)."""
    state = app.state.clinic
    assert isinstance(state, AppState)
    return state


def get_state(connection: HTTPConnection) -> AppState:
    return state_of(connection.app)


#: The app's state as a dependency, for requests and WebSockets alike.
StateDep = Annotated[AppState, Depends(get_state)]
