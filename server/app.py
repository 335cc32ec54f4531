"""The FastAPI application factory: settings, database, security and routers in one place."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from app.domain.clock import Clock
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
from server.security.passwords import Passwords
from server.security.rate_limit import LoginLimiter
from server.settings import Settings

API_VERSION = "1"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Give the hub this loop; on PostgreSQL, listen for other processes' changes."""
    hub: Hub = app.state.hub
    hub.attach(asyncio.get_running_loop())
    stop = asyncio.Event()
    listener = None
    if app.state.engine.dialect.name == "postgresql":
        listener = asyncio.create_task(listen(app.state.engine, hub, stop))
    try:
        yield
    finally:
        stop.set()
        if listener is not None:
            await listener


def create_app(
    settings: Settings, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """The server application; `engine` and `clock` may be given by tests and the CLI."""
    app = FastAPI(
        title="Clinic Desk server",
        version=API_VERSION,
        summary="Accounts, schedules, patients and tasks for the Clinic Desk desktop.",
        lifespan=_lifespan,
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
