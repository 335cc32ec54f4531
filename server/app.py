"""The FastAPI application factory: settings, database, security and routers in one place."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from uuid import UUID

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from server.api.error_responses import document_errors, error_responses
from server.api.query_check import reject_unknown_query
from server.api.routes import (
    api_docs,
    appointments,
    assignments,
    audit_events,
    auth,
    calls,
    delegations,
    group_calls,
    health,
    hl7_messages,
    hl7_outbound,
    invites,
    locations,
    patient,
    patient_pages,
    patients,
    phone_calls,
    realtime,
    sync,
    tasks,
    users,
)
from server.app_state import AppState, state_of
from server.body_limit import BodyLimit
from server.database import create_db_engine
from server.errors import install_error_handlers
from server.fhir.app import mount_fhir
from server.integration import interface_account
from server.integration.hl7_inbox import inbox_of
from server.integration.hl7_outbound import install_session_events as install_hl7_outbound_events
from server.integration.hl7_outbound_sender import OutboundSender
from server.integration.mllp_listener import MllpListener
from server.realtime.hub import Hub
from server.realtime.notify import install_session_events, listen
from server.realtime.process_lease import ProcessLease
from server.realtime.shared_call_owners import SharedCallOwners
from server.realtime.shared_waiting_room import SharedWaitingRoom
from server.realtime.waiting_room import WaitingRoom
from server.realtime.waiting_rooms import WaitingRooms
from server.request_gate import RequestGate
from server.security.client_address import parse_networks
from server.security.passwords import Passwords
from server.security.rate_limit import LoginThrottle, SlidingWindow
from server.security.secret_file import with_secret
from server.services import phone_attempts
from server.services.group_calls import group_rooms
from server.services.invite_sender import InviteSender
from server.services.invites import install_session_events as install_invite_events
from server.services.phone_calls import PhoneCalls
from server.services.presence import publish_committed
from server.services.room_closing import install_session_events as install_room_events
from server.services.waiting_visits import StoredVisits
from server.settings import Settings
from shared.clock import Clock
from shared.realtime_protocol import PresenceState

API_VERSION = "1"


log = logging.getLogger("clinicdesk.server")

#: How long start-up waits for the realtime listener's LISTEN (PostgreSQL).
LISTEN_READY_SECONDS = 10.0
#: How often the hub looks for sockets whose access token has expired.
EXPIRY_CHECK_SECONDS = 1.0


async def _expire_tokens(hub: Hub, clock: Clock, stop: asyncio.Event) -> None:
    """Close the realtime sockets whose access token expired (no database work)."""
    while not stop.is_set():
        hub.expire(clock.now())
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), EXPIRY_CHECK_SECONDS)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Give the hub this loop and its timers; on PostgreSQL, listen for other processes."""
    state = state_of(app)
    hub = state.hub
    hub.attach(asyncio.get_running_loop())
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_expire_tokens(hub, state.clock, stop))]
    room = state.waiting_room
    await room.start()
    tasks.append(asyncio.create_task(room.run(stop)))
    sender = state.invite_sender
    sending = asyncio.create_task(sender.run(stop)) if sender is not None else None
    outbound = state.hl7_outbound
    hl7_sending = asyncio.create_task(outbound.run(stop)) if outbound is not None else None
    if state.engine.dialect.name == "postgresql":
        listening = asyncio.Event()
        tasks.append(asyncio.create_task(listen(state.engine, hub, stop, listening)))
        # Serve once events can be heard: a desktop must not miss one committed meanwhile.
        try:
            await asyncio.wait_for(listening.wait(), LISTEN_READY_SECONDS)
        except TimeoutError:
            log.warning("serving before the realtime listener reached the database")
    # Calls live in this process: any attempt still open in the database died with the last.
    # Not while other processes share the database (the open ones may be their live calls),
    # nor before the database is migrated.
    try:
        if state.lease is None or await asyncio.to_thread(state.lease.alone):
            await asyncio.to_thread(
                phone_attempts.close_left_open, state.engine, hub, state.clock.now())
    except DBAPIError as error:
        log.warning("phone call attempts not checked at start: %s", error.orig)
    listener = await _start_mllp(app, state)
    try:
        yield
    finally:
        stop.set()
        if listener is not None:
            await listener.close()
        # An SMTP server or a hospital host that does not answer must not hold up shutdown: a
        # leased invite or message is taken again by the next worker once its lease ends.
        for worker in (sending, hl7_sending):
            if worker is not None:
                worker.cancel()
                with suppress(asyncio.CancelledError):
                    await worker
        await asyncio.to_thread(state.phone_calls.hang_up_all)
        await asyncio.gather(*tasks)
        await state.waiting_room.close()


async def _start_mllp(app: FastAPI, state: AppState) -> MllpListener | None:
    """The HL7 MLLP listener when settings.mllp_port is set (serve --mllp-port)."""
    settings, clock = state.settings, state.clock
    if settings.mllp_port is None:
        return None
    interface_id = await asyncio.to_thread(interface_account.ensure, state.engine, clock.now())
    inbox = inbox_of(app, interface_id)
    listener = MllpListener(inbox, clock, settings.mllp_host, settings.mllp_port)
    await listener.start()
    state.mllp = listener
    return listener


def _waiting_room(
    settings: Settings, engine: Engine, hub: Hub, clock: Clock, lease: ProcessLease | None,
    outbound: OutboundSender | None,
) -> WaitingRooms:
    """Presence of the waiting-room pages: shared by every process on PostgreSQL (`lease`),
    else this process's own, announced in a worker thread."""
    resume = timedelta(seconds=settings.patient_resume_seconds)
    grace = settings.patient_leave_grace_seconds
    if lease is not None:
        return SharedWaitingRoom(engine, hub, clock.now, grace, resume, lease, outbound)

    async def publish(
        appointment_id: UUID, state: PresenceState, at: datetime, people: int
    ) -> None:
        await asyncio.to_thread(
            publish_committed, engine, hub, appointment_id, state, at, people
        )

    return WaitingRoom(publish, clock.now, grace, StoredVisits(engine, resume, outbound))


def create_app(
    settings: Settings, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """The server application; `engine` and `clock` may be given by tests and the CLI."""
    settings = with_secret(settings)
    app = FastAPI(
        title="Clinic Desk server",
        version=API_VERSION,
        summary="Accounts, schedules, patients and tasks for the Clinic Desk desktop.",
        lifespan=_lifespan,
        dependencies=[Depends(reject_unknown_query)],
        # Served from this server by api_docs (FastAPI's own pages load from a CDN).
        docs_url=None,
        redoc_url=None,
        # Every operation's 413 and 422 carry the one error body (error_responses.py adds more).
        responses=error_responses(413, 422),
    )
    engine = engine if engine is not None else create_db_engine(settings.database_url)
    # Several processes share one PostgreSQL database: what a second process must know lives
    # there, under this process's lease. SQLite is one process: memory is enough.
    lease = ProcessLease(engine) if engine.dialect.name == "postgresql" else None
    hub = Hub(SharedCallOwners(engine, lease.id) if lease is not None else None)
    install_session_events()
    clock = clock or Clock()
    # No hospital host set up: no outbound HL7 message is queued, and no worker runs.
    outbound = (
        OutboundSender(engine, settings, clock) if settings.hl7_outbound_port is not None else None
    )
    app.state.clinic = AppState(
        settings=settings,
        engine=engine,
        clock=clock,
        hub=hub,
        passwords=Passwords(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        limiter=LoginThrottle(
            settings.login_free_failures,
            settings.login_delay_seconds,
            settings.login_max_delay_seconds,
            settings.login_failures_per_address,
            settings.login_failure_window_seconds,
        ),
        join_limiter=SlidingWindow(
            settings.join_failures_per_address, settings.join_failure_window_seconds
        ),
        trusted_proxies=parse_networks(settings.trusted_proxies),
        waiting_room=_waiting_room(settings, engine, hub, clock, lease, outbound),
        lease=lease,
        group_rooms=group_rooms(settings),
        phone_calls=PhoneCalls(),
        # No SMTP server (nor pickup folder) set up: no invite is queued, and no worker runs.
        invite_sender=(
            InviteSender(engine, hub, settings, clock)
            if settings.smtp_host or settings.mail_pickup_dir
            else None
        ),
        hl7_outbound=outbound,
    )
    install_invite_events()
    install_hl7_outbound_events()
    install_room_events()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestGate)
    for module in (
        health,
        auth,
        users,
        locations,
        assignments,
        delegations,
        patients,
        appointments,
        tasks,
        audit_events,
        sync,
        realtime,
        invites,
        patient,
        patient_pages,
        calls,
        hl7_messages,
        hl7_outbound,
        group_calls,
        phone_calls,
    ):
        app.include_router(module.router)
    if settings.api_docs:
        app.include_router(api_docs.router)
    mount_fhir(app)
    document_errors(app)
    return app
