"""The life both WebSockets share (staff /realtime, patient /patient/socket) once signed in.

Before: the client's first message within AUTH_TIMEOUT_SECONDS (`receive_first`). After: the
hub's events go out, the client's messages come in one by one (a refused or failing one gets
an error event, never a closed socket), and the first of these to end ends the socket: the
client leaving, the hub closing the connection (token expired, link cancelled, too slow), or a
socket-specific task such as the patient's heartbeat.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from server.realtime.hub import Connection, Hub
from shared.realtime_protocol import MAX_CLIENT_FRAME, ErrorEvent

#: How long a socket waits for its first (auth) message.
AUTH_TIMEOUT_SECONDS = 10
#: The code uvicorn closes every socket with when the server shuts down ("service restart").
CLOSE_SERVER_STOPPING = 1012


def error_event(code: str, message: str, refused: str | None = None) -> str:
    """An error event for the client (`refused`: the type of the message it refuses)."""
    return ErrorEvent(code=code, message=message, refused=refused).model_dump_json()


async def receive_first(websocket: WebSocket) -> str | None:
    """The client's first message; None when none came in time or it is too large."""
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        return None
    return raw if len(raw.encode()) <= MAX_CLIENT_FRAME else None


class SocketSession:
    """One signed-in socket: its hub connection, the send and receive loops, and the close.

    `handle` answers one client message (within MAX_CLIENT_FRAME); `idle_timeout` closes a
    client silent that long with `idle_close` (the patient page's heartbeat); `before_send`
    sees every event on its way out.
    """

    def __init__(
        self,
        websocket: WebSocket,
        hub: Hub,
        connection: Connection,
        handle: Callable[[str], Awaitable[None]],
        log: logging.Logger,
        *,
        idle_timeout: float | None = None,
        idle_close: tuple[int, str] = (0, ""),
        before_send: Callable[[str], None] | None = None,
    ) -> None:
        self.websocket = websocket
        self.hub = hub
        self.connection = connection
        self._handle = handle
        self._log = log
        self._idle_timeout = idle_timeout
        self._idle_close = idle_close
        self._before_send = before_send
        #: The client fell silent past `idle_timeout`.
        self.timed_out = False
        #: The server closed the socket because it is stopping (uvicorn's 1012), not the client.
        self.server_stopping = False

    async def run(
        self,
        greeting: Callable[[], Awaitable[list[str]]],
        also: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        """Send the greeting's messages, serve until the first loop (or one of `also`) ends,
        then leave the hub and close with the code the hub asked for, if any."""
        try:
            for message in await greeting():
                await self.websocket.send_text(message)
            await self._serve(also)
        except WebSocketDisconnect:
            pass
        finally:
            self.hub.disconnect(self.connection)
            connection, websocket = self.connection, self.websocket
            if connection.close_code and websocket.client_state is WebSocketState.CONNECTED:
                with suppress(RuntimeError, WebSocketDisconnect):
                    await websocket.close(connection.close_code, connection.close_reason)

    async def _serve(self, also: Sequence[Callable[[], Awaitable[None]]]) -> None:
        tasks = {
            asyncio.ensure_future(self._send_events()),
            asyncio.ensure_future(self._receive_messages()),
            asyncio.ensure_future(self.connection.closing.wait()),
            *(asyncio.ensure_future(task()) for task in also),
        }
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            try:
                task.result()
            except WebSocketDisconnect as exc:
                self.server_stopping = exc.code == CLOSE_SERVER_STOPPING
            except RuntimeError:
                pass

    async def _send_events(self) -> None:
        while True:
            message = await self.connection.queue.get()
            if self._before_send is not None:
                self._before_send(message)
            await self.websocket.send_text(message)

    async def _receive(self) -> str | None:
        """The next client message; None once it has been silent past the idle timeout."""
        try:
            return await asyncio.wait_for(self.websocket.receive_text(), self._idle_timeout)
        except TimeoutError:
            return None

    async def _receive_messages(self) -> None:
        while True:
            raw = await self._receive()
            if raw is None:
                self.timed_out = True
                self.connection.close(*self._idle_close)
                return
            if len(raw.encode()) > MAX_CLIENT_FRAME:
                limit = f"Messages are limited to {MAX_CLIENT_FRAME} bytes."
                self.connection.offer(error_event("too_large", limit))
                continue
            try:
                await self._handle(raw)
            except Exception:  # one bad message must not end the connection
                self._log.exception("socket message failed")
                failed = "Something went wrong on the server."
                self.connection.offer(error_event("internal", failed))
