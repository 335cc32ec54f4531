"""`python -m server.embedded`: the server of `clinic-desk --demo`, a child of the desktop.

The same FastAPI app as `clinic-desk-server serve`, on SQLite in the demo's folder, serving on
a loopback socket the desktop bound and handed down (so its URL is known before this process
has even started). Invites go to the folder's mail/ instead of an SMTP server. Once serving it
writes one JSON line on stdout: the URL, the demo clinician's fresh password and the patients
who will arrive. It stops with the desktop (shared/parent_watch.py).
"""

import argparse
import asyncio
import json
import logging
import os
import secrets
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr

from server import demo_clinic
from server.app import create_app
from server.database import create_db_engine
from server.main import UVICORN_OPTIONS
from server.schema import upgrade
from server.security.passwords import Passwords
from server.session_effects import ServerSession
from server.settings import Settings
from shared.clock import Clock
from shared.parent_watch import exit_now, watch_parent

log = logging.getLogger("clinicdesk.server")

DATABASE = "server.sqlite3"
MAIL = "mail"


def demo_settings(folder: Path, url: str) -> Settings:
    """The demo's server settings: nothing from the environment or a file decides them."""
    return Settings(
        database_url=f"sqlite:///{folder / DATABASE}",
        # A new secret each start: tokens of an earlier run are worthless.
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        # The only password is random (144 bits) and never typed: cheap hashing loses nothing
        # and keeps the start quick.
        argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1,
        public_url=url,
        mail_pickup_dir=str(folder / MAIL),
        smtp_from="Riverside General Hospital <clinic@example.org>",
        clinic_name=demo_clinic.HOSPITAL[0],
        clinic_phone="+44 20 7946 0999",
    )


def reset(folder: Path) -> None:
    """`--demo --reset`: the day starts afresh (the database and the mail go)."""
    for name in (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", f"{DATABASE}-journal"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / MAIL, ignore_errors=True)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class _Stopper:
    """Stops the server once it runs; before that, the process (nothing to shut down yet)."""

    def __init__(self) -> None:
        self.server: uvicorn.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def __call__(self) -> None:
        if self.server is None or self.loop is None:
            os._exit(0)
        self.loop.call_soon_threadsafe(setattr, self.server, "should_exit", True)


async def _serve(
    server: uvicorn.Server, sock: socket.socket, ready: dict[str, Any], stopper: _Stopper
) -> None:
    stopper.loop, stopper.server = asyncio.get_running_loop(), server
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        _say(ready)
    await serving


def run(folder: Path, fd: int, parent_pid: int, fresh: bool) -> int:
    stopper = _Stopper()
    watch_parent(parent_pid, sys.stdin.buffer, stopper)
    folder.mkdir(parents=True, exist_ok=True)
    if fresh:
        reset(folder)
    sock = socket.socket(fileno=fd)
    host, port = sock.getsockname()[:2]
    url = f"http://{host}:{port}"
    settings = demo_settings(folder, url)
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    passwords = Passwords(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )
    # Invites of the day's bookings are queued here and sent once the worker runs.
    with ServerSession(engine, wake_invites=lambda: None) as session:
        start = demo_clinic.prepare(session, passwords, Clock().now(), url)
        session.commit()
    log.info("demo server at %s (data in %s)", url, folder)
    config = uvicorn.Config(create_app(settings, engine), **UVICORN_OPTIONS)
    ready = {
        "type": "ready", "url": url, "username": "ng", "password": start.password,
        "mail": str(folder / MAIL),
        "arrivals": [arrival.to_json() for arrival in start.arrivals],
    }
    asyncio.run(_serve(uvicorn.Server(config), sock, ready, stopper))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.embedded")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--fd", type=int, required=True, help="a listening socket to serve on")
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return run(args.data_dir, args.fd, args.parent_pid, args.reset)
    except Exception as error:  # the desktop shows the reason in words
        log.exception("the demo server cannot start")
        _say({"type": "error", "message": f"{type(error).__name__}: {error}"})
        return 1


if __name__ == "__main__":
    exit_now(main())
