"""The app served by uvicorn on a free loopback port in a thread: for a real browser and sockets.

The test keeps the app object (its clock, hub and waiting room) while Chromium and WebSocket
clients talk to it over real HTTP.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from websockets.sync.client import ClientConnection, connect

from server.main import UVICORN_OPTIONS
from tests.polling import wait_until
from tests.server.mail_helpers import DEADLINE


@contextmanager
def live(app: FastAPI, port: int) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:`port`; yields the base URL."""
    options = UVICORN_OPTIONS | {"log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, what="the server to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def desktop(base: str, access_token: str) -> Iterator[ClientConnection]:
    """A desktop's realtime socket, signed in (the hello read)."""
    with connect(base.replace("http", "ws", 1) + "/realtime", open_timeout=DEADLINE) as socket:
        socket.send(json.dumps({"type": "auth", "access_token": access_token}))
        assert next_event(socket)["type"] == "hello"
        yield socket


def next_event(
    socket: ClientConnection, kind: str | None = None, timeout: float = DEADLINE
) -> dict[str, Any]:
    """The next event (of type `kind`, skipping others such as "changes")."""
    while True:
        event: dict[str, Any] = json.loads(socket.recv(timeout=timeout))
        if kind is None or event["type"] == kind:
            return event
