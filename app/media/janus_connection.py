"""One Janus session over its WebSocket API (subprotocol "janus-protocol"), for the desktop.

Requests are matched to their answers by transaction: a synchronous plugin request is answered
with "success", an asynchronous one with "ack" and then an "event" carrying the same
transaction. Everything else Janus sends about a handle (others joining, talking, hangup) goes
to that handle's listener. A keepalive every 25 s keeps the session (Janus drops it after 60 s).
"""

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

log = logging.getLogger("clinicdesk.media.janus")

KEEPALIVE_SECONDS = 25.0
REQUEST_SECONDS = 10.0

EventHandler = Callable[[dict[str, Any]], None]


class JanusRefused(Exception):
    """Janus, or one of its plugins, answered a request with an error."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"{reason} ({code})")
        self.code = code
        self.reason = reason


class JanusGone(Exception):
    """The connection to Janus closed (Janus stopped, the network went away)."""


def _refusal(message: dict[str, Any]) -> JanusRefused | None:
    if message.get("janus") == "error":
        error = message.get("error", {})
        return JanusRefused(int(error.get("code", 0)), str(error.get("reason", "")))
    data = message.get("plugindata", {}).get("data", {})
    if "error_code" in data:
        return JanusRefused(int(data["error_code"]), str(data.get("error", "")))
    return None


class JanusConnection:
    """A Janus session opened with a participant's Janus token."""

    def __init__(self, url: str, token: str):
        self.url = url
        self.token = token
        self.session_id = 0
        self._socket: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        #: Requests whose "ack" is the whole answer (keepalive, trickle).
        self._ack_enough: set[str] = set()
        self._handlers: dict[int, EventHandler] = {}
        self._tasks: list[asyncio.Task[None]] = []
        #: Set when the socket closes, whatever the reason.
        self.closed = asyncio.Event()

    async def open(self) -> None:
        try:
            self._socket = await websockets.connect(
                self.url,
                subprotocols=[websockets.Subprotocol("janus-protocol")],
                open_timeout=REQUEST_SECONDS,
                max_size=2**22,
                proxy=None,
            )
        except (OSError, websockets.InvalidHandshake, TimeoutError) as error:
            raise JanusGone(f"could not reach the group call service: {error}") from error
        self._tasks.append(asyncio.ensure_future(self._read()))
        answer = await self.request({"janus": "create"})
        self.session_id = int(answer["data"]["id"])
        self._tasks.append(asyncio.ensure_future(self._keepalive()))

    async def attach(self, plugin: str, on_event: EventHandler) -> int:
        answer = await self.request({"janus": "attach", "plugin": plugin})
        handle = int(answer["data"]["id"])
        self._handlers[handle] = on_event
        return handle

    async def message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A plugin request; its answer ("success" or the event for it), refusals raised."""
        request: dict[str, Any] = {"janus": "message", "handle_id": handle, "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        return await self.request(request)

    async def trickle_done(self, handle: int) -> None:
        """aiortc puts every candidate in its SDP: tell Janus there are no more."""
        body = {"janus": "trickle", "handle_id": handle, "candidate": {"completed": True}}
        await self.request(body, ack_enough=True)

    async def detach(self, handle: int) -> None:
        self._handlers.pop(handle, None)
        with contextlib.suppress(JanusRefused, JanusGone):
            await self.request({"janus": "detach", "handle_id": handle})

    async def request(self, body: dict[str, Any], ack_enough: bool = False) -> dict[str, Any]:
        transaction = secrets.token_hex(8)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = answer
        if ack_enough:
            self._ack_enough.add(transaction)
        try:
            await self._send(body, transaction)
            message = await asyncio.wait_for(answer, REQUEST_SECONDS)
        except TimeoutError:
            raise JanusGone(f"the group call service did not answer {body['janus']}") from None
        finally:
            self._pending.pop(transaction, None)
            self._ack_enough.discard(transaction)
        refusal = _refusal(message)
        if refusal is not None:
            raise refusal
        return message

    async def _send(self, body: dict[str, Any], transaction: str | None) -> None:
        if self._socket is None or self.closed.is_set():
            raise JanusGone("the connection to the group call service is closed")
        message = body | {"token": self.token}
        if transaction is not None:
            message["transaction"] = transaction
        if self.session_id and body["janus"] != "create":
            message["session_id"] = self.session_id
        try:
            await self._socket.send(json.dumps(message))
        except websockets.ConnectionClosed as error:
            raise JanusGone("the connection to the group call service closed") from error

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for raw in self._socket:
                self._dispatch(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()
            for waiting in self._pending.values():
                if not waiting.done():
                    waiting.set_exception(JanusGone("the group call service went away"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("janus")
        transaction = str(message.get("transaction", ""))
        waiting = self._pending.get(transaction)
        if kind == "ack" and transaction not in self._ack_enough:
            return  # the event with the same transaction follows
        if (
            waiting is not None
            and not waiting.done()
            and kind in ("success", "error", "event", "ack")
        ):
            waiting.set_result(message)
            return
        handler = self._handlers.get(int(message.get("sender", 0)))
        if handler is not None:
            try:
                handler(message)
            except Exception:
                log.exception("a Janus event handler failed")

    async def _keepalive(self) -> None:
        while not self.closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closed.wait(), KEEPALIVE_SECONDS)
            if not self.closed.is_set():
                with contextlib.suppress(JanusGone, JanusRefused):
                    await self.request({"janus": "keepalive"}, ack_enough=True)

    async def close(self) -> None:
        if self._socket is not None and not self.closed.is_set() and self.session_id:
            with contextlib.suppress(JanusGone, JanusRefused):
                await self.request({"janus": "destroy"})
        if self._socket is not None:
            await self._socket.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.closed.set()
