"""The FastAPI application factory: settings, database, security and routers in one place."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from app.domain.clock import Clock
from server.api.query_check import reject_unknown_query
from server.api.routes import (
    appointments,
    assignments,
    audit_events,
    auth,
    delegations,
    health,
    locations,
    patients,
    realtime,
    sync,
    tasks,
    users,
)
from server.body_limit import BodyLimit
from server.database import create_db_engine
from server.errors import install_error_handlers
from server.realtime.hub import Hub
from server.realtime.notify import install_session_events, listen
from server.request_gate import RequestGate
from server.security.passwords import Passwords
from server.security.rate_limit import LoginLimiter
from server.settings import Settings

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
    hub: Hub = app.state.hub
    hub.attach(asyncio.get_running_loop())
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_expire_tokens(hub, app.state.clock, stop))]
    if app.state.engine.dialect.name == "postgresql":
        listening = asyncio.Event()
        tasks.append(asyncio.create_task(listen(app.state.engine, hub, stop, listening)))
        # Serve once events can be heard: a desktop must not miss one committed meanwhile.
        try:
            await asyncio.wait_for(listening.wait(), LISTEN_READY_SECONDS)
        except TimeoutError:
            log.warning("serving before the realtime listener reached the database")
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def create_app(
    settings: Settings, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """The server application; `engine` and `clock` may be given by tests and the CLI."""
    app = FastAPI(
        title="Clinic Desk server",
        version=API_VERSION,
        summary="Accounts, schedules, patients and tasks for the Clinic Desk desktop.",
        lifespan=_lifespan,
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state.settings = settings
    app.state.engine = engine if engine is not None else create_db_engine(settings.database_url)
    app.state.hub = Hub()
    install_session_events()
    app.state.clock = clock or Clock()
    app.state.passwords = Passwords(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )
    app.state.limiter = LoginLimiter(
        settings.login_failures_per_account,
        settings.login_failures_per_address,
        settings.login_failure_window_seconds,
    )
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
    ):
        app.include_router(module.router)
    return app
