"""A WebSocket client that reconnects like the desktop and the patient's page do: for tests
and benches that kill server processes behind a balancer."""

import json
import queue
import threading
import time
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from tests.polling import wait_until


class Socket:
    """A WebSocket through the balancer that reconnects when its server goes (as the desktop
    and the patient's page do), answers pings, and keeps every event it receives."""

    def __init__(self, url: str, first: dict[str, Any]) -> None:
        self.url, self.first = url, first
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.served_by = ""
        #: appointment -> (state, at) as this socket last heard it (retold after a reconnect).
        self.presence: dict[str, tuple[str, str]] = {}
        self.reconnect = True
        #: How many times a server greeted this socket (hello): its connections so far.
        self.connections = 0
        self._socket: ClientConnection | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with connect(self.url, open_timeout=10) as socket:
                    assert socket.response is not None
                    self.served_by = socket.response.headers.get("X-Served-By", "")
                    self._socket = socket
                    socket.send(json.dumps(self.first))
                    self.presence = {}
                    for raw in socket:
                        event = json.loads(raw)
                        if event.get("type") == "hello":
                            # Greeted: the server has this socket in its hub now.
                            self.connections += 1
                        if event.get("type") == "ping":
                            socket.send(json.dumps({"type": "pong"}))
                            continue
                        if event.get("type") == "presence":
                            self.presence[event["appointment_id"]] = (event["state"], event["at"])
                        self.events.put(event)
            except (OSError, WebSocketException):
                pass
            self._socket = None
            if not self.reconnect:
                return
            self._stop.wait(0.3)

    def send(self, message: dict[str, Any]) -> None:
        wait_until(lambda: self._socket is not None, what="the socket to be connected")
        assert self._socket is not None
        self._socket.send(json.dumps(message))

    def next(self, kind: str, timeout: float = 20) -> dict[str, Any]:
        """The next event of type `kind` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} event within {timeout} s")
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event["type"] == kind:
                return event

    def close(self) -> None:
        self._stop.set()
        self.reconnect = False
        socket = self._socket
        if socket is not None:
            socket.close()
        self._thread.join(timeout=10)
