"""A call's signalling over the realtime hub: what the desktop sends goes out on the socket as
`signal` messages; what the patient's page sends comes back as `signal` events."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from app.media.signalling import IncomingSignal, Signalling, SignallingError, checked_payload
from shared.errors import KnownError
from shared.realtime_protocol import SignalEvent, SignalKind

Sender = Callable[[UUID, SignalKind, dict[str, Any]], Awaitable[None]]


class HubSignalling(Signalling):
    """One appointment's call. The queue outlives a reconnect of the socket (the hub relays
    nothing while it is down; the call's own reconnect logic covers the gap)."""

    def __init__(self, appointment_id: UUID, send: Sender,
                 on_close: Callable[["HubSignalling"], None]) -> None:
        self.appointment_id = appointment_id
        self._send = send
        self._on_close = on_close
        self._inbox: asyncio.Queue[IncomingSignal | None] = asyncio.Queue()
        self._closed = False
        #: Why the server refused this call ("Dr Ng has already started this call."), if so.
        self.refusal = ""

    def deliver(self, event: SignalEvent) -> None:
        """A relayed message for this appointment (only the patient's page is listened to)."""
        if not self._closed and event.sender == "patient":
            self._inbox.put_nowait(IncomingSignal(event.kind, event.payload))

    def refuse(self, message: str) -> None:
        """The server refused our signalling (the call is someone else's): end it."""
        if not self._closed:
            self.refusal = message
            self._inbox.put_nowait(IncomingSignal(SignalKind.HANGUP, {"reason": message}))

    async def send(self, kind: SignalKind, payload: dict[str, Any]) -> None:
        if self._closed:
            raise SignallingError("signalling is closed")
        try:
            await self._send(self.appointment_id, kind, checked_payload(payload))
        except KnownError as error:
            raise SignallingError(str(error)) from None

    async def receive(self) -> IncomingSignal | None:
        if self._closed and self._inbox.empty():
            return None
        return await self._inbox.get()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._inbox.put_nowait(None)
            self._on_close(self)
