"""The realtime WebSocket: "changes" hints, waiting-room presence and call signalling.

Signs in with the first message (the token never goes in the URL), renews the token on the
socket before it expires, and reconnects with backoff when the network or the server goes.
Close codes (docs/sync.md): 4419 refresh and reconnect; 4410 / 4401 sign in again.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from app.sync.api_client import ApiClient
from app.sync.backoff import Backoff
from app.sync.errors import Offline, ServerBusy, SignInRequired
from app.sync.stop_task import stop_task
from shared.realtime_protocol import (
    CLOSE_SESSION_ENDED,
    CLOSE_TOKEN_EXPIRED,
    CLOSE_UNAUTHENTICATED,
    ChangesEvent,
    ErrorEvent,
    HelloEvent,
    PresenceEvent,
    SignalEvent,
    SignalKind,
)

log = logging.getLogger("clinicdesk.sync.realtime")


def websocket_url(server_url: str) -> str:
    base = server_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://"):] + "/realtime"
    return "ws://" + base.removeprefix("http://") + "/realtime"


class RealtimeClient:
    def __init__(
        self,
        api: ApiClient,
        on_changes: Callable[[int], None],
        on_presence: Callable[[PresenceEvent], None],
        on_connected: Callable[[bool], None],
        on_signed_out: Callable[[str], None],
        on_signal: Callable[[SignalEvent], None] | None = None,
        on_error: Callable[[ErrorEvent], None] | None = None,
        backoff: Backoff | None = None,
        renew_before_seconds: float = 60.0,
    ) -> None:
        self.api = api
        self._on_changes = on_changes
        self._on_presence = on_presence
        self._on_connected = on_connected
        self._on_signed_out = on_signed_out
        self._on_signal = on_signal
        self._on_error = on_error
        self._backoff = backoff or Backoff(base=0.25, cap=15.0)
        self._renew_before = renew_before_seconds
        self._socket: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None
        self._set_connected(False)

    async def send_signal(self, appointment_id: UUID, kind: SignalKind,
                          payload: dict[str, Any]) -> None:
        if self._socket is None:
            raise Offline("Not connected to the Clinic Desk server.")
        await self._socket.send(json.dumps({
            "type": "signal", "appointment_id": str(appointment_id), "kind": kind.value,
            "payload": payload,
        }))

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self._on_connected(connected)

    async def _run(self) -> None:
        url = websocket_url(self.api.server_url)
        while True:
            delay: float | None = None
            try:
                token = self.api.access_token or await self.api.refresh()
                await self._session(url, token)
                delay = self._backoff.next_delay()
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
                self._set_connected(False)
                if code == CLOSE_TOKEN_EXPIRED:
                    self.api.forget_access()  # refresh, then connect again at once
                elif code in (CLOSE_SESSION_ENDED, CLOSE_UNAUTHENTICATED):
                    self.api.forget_access()
                    try:
                        await self.api.refresh()
                    except SignInRequired as error:
                        self._on_signed_out(str(error))
                        return
                    except (Offline, ServerBusy):
                        delay = self._backoff.next_delay()
                else:
                    delay = self._backoff.next_delay()
            except SignInRequired as error:
                self._set_connected(False)
                self._on_signed_out(str(error))
                return
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError, Offline,
                    ServerBusy) as error:
                self._set_connected(False)
                delay = self._backoff.next_delay()
                log.debug("realtime connection failed (%s); again in %.1f s",
                          type(error).__name__, delay)
            finally:
                self._socket = None
            if delay is not None:
                await asyncio.sleep(delay)

    async def _session(self, url: str, token: str) -> None:
        async with connect(url, open_timeout=5, compression=None, max_size=2**20,
                           ping_interval=20, ping_timeout=20) as socket:
            await socket.send(json.dumps({"type": "auth", "access_token": token}))
            hello = HelloEvent.model_validate_json(await asyncio.wait_for(socket.recv(), 10))
            self._socket = socket
            self._backoff.reset()
            self._set_connected(True)
            self._on_changes(hello.cursor)
            renewal = asyncio.ensure_future(self._renew(socket, token))
            try:
                async for raw in socket:
                    self._dispatch(raw)
            finally:
                renewal.cancel()
                self._set_connected(False)

    async def _renew(self, socket: ClientConnection, token: str) -> None:
        """Keep the socket past the token's lifetime: refresh and send a fresh auth in time."""
        while True:
            lifetime = self.api.seconds_left()
            await asyncio.sleep(max(1.0, lifetime - self._renew_before))
            try:
                token = await self.api.refresh(stale=token)
                await socket.send(json.dumps({"type": "auth", "access_token": token}))
            except (Offline, ServerBusy, SignInRequired, ConnectionClosed) as error:
                log.info("token renewal on the socket failed (%s)", type(error).__name__)
                return  # the server closes with 4419 and the loop reconnects

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "changes":
                self._on_changes(ChangesEvent.model_validate(message).cursor)
            elif kind == "presence":
                self._on_presence(PresenceEvent.model_validate(message))
            elif kind == "signal" and self._on_signal is not None:
                self._on_signal(SignalEvent.model_validate(message))
            elif kind == "error":
                error = ErrorEvent.model_validate(message)
                log.warning("the server refused a realtime message: %s", error.code)
                if self._on_error is not None:
                    self._on_error(error)
        except (ValueError, ValidationError, AttributeError):
            log.warning("ignoring a realtime message that does not parse")
