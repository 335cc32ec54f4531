"""The patient's page's socket without a browser: presence, heartbeat and the call's signalling,
for the demo's simulated patients (and the tests' patients)."""

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect

from app.media.signalling import IncomingSignal, Signalling, checked_payload
from shared.realtime_protocol import SignalKind


def token_of(link: str) -> str:
    """The token rides in the link's fragment (/join#TOKEN)."""
    return urlsplit(link).fragment


class PatientSocketSignalling(Signalling):
    """The patient's page's socket: signs in with the link's token, answers the heartbeat,
    and carries the call's signalling."""

    def __init__(self, server_url: str, token: str) -> None:
        self.url = "ws://" + server_url.removeprefix("http://").rstrip("/") + "/patient/socket"
        self.token = token
        self._socket: ClientConnection | None = None
        self._inbox: asyncio.Queue[IncomingSignal | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        #: Signals read ahead by `wait_for_offer`, handed out first by `receive`.
        self._held: list[IncomingSignal | None] = []
        self.hello: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []

    async def enter(self) -> None:
        """Open the page's socket: the patient is in the waiting room."""
        self._socket = await connect(self.url, open_timeout=5)
        await self._socket.send(json.dumps({"type": "auth", "token": self.token}))
        self.hello = json.loads(await asyncio.wait_for(self._socket.recv(), 5))
        if self.hello.get("type") != "hello":
            await self._socket.close()
            raise ConnectionError(f"the server refused the patient's socket: {self.hello}")
        self._reader = asyncio.ensure_future(self._read(self._socket))

    async def _read(self, socket: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in socket:
                message = json.loads(raw)
                self.messages.append(message)
                if message["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif message["type"] == "signal":
                    self._inbox.put_nowait(
                        IncomingSignal(SignalKind(message["kind"]), message["payload"]))
        self._inbox.put_nowait(None)

    async def send(self, kind: SignalKind, payload: dict[str, Any]) -> None:
        if self._socket is None:
            raise ConnectionError("the patient's socket is closed")
        await self._socket.send(json.dumps(
            {"type": "signal", "kind": kind.value, "payload": checked_payload(payload)}))

    async def receive(self) -> IncomingSignal | None:
        if self._held:
            return self._held.pop(0)
        return await self._inbox.get()

    async def wait_for_offer(self) -> bool:
        """Wait in the room until a desktop calls (its offer is kept for the call session);
        False when the socket closed first."""
        while True:
            signal = await self._inbox.get()
            if signal is None:
                return False
            if signal.kind is SignalKind.OFFER:
                self._held.append(signal)
                return True

    async def close(self) -> None:
        """The tab closes."""
        if self._socket is not None:
            await self._socket.close()
            self._socket = None
        if self._reader is not None:
            await asyncio.wait({self._reader}, timeout=5)
