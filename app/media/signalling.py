"""How a call's offer, answer, candidates and hangup travel: an abstract class and a test pair."""

import asyncio
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from shared.realtime_protocol import MAX_SIGNAL_PAYLOAD, SignalKind


class SignallingError(Exception):
    """A signalling message could not be sent (closed channel, payload too large)."""


@dataclass(frozen=True, slots=True)
class IncomingSignal:
    """One message from the other party: `kind` and its JSON `payload`."""

    kind: SignalKind
    payload: dict[str, Any] = field(default_factory=dict)


class Signalling(ABC):
    """The call's path to the other party (the realtime hub, a test pair, later Janus).

    Payloads are JSON objects, as the hub relays them (`SignalMessage.payload`):
    offer/answer `{"type", "sdp", "generation"}` (aiortc does not trickle: the SDP carries the
    candidates), candidate `{"candidate", "sdpMid", "sdpMLineIndex"}` as a browser's
    `RTCIceCandidate.toJSON()`, hangup `{"reason"}`.
    """

    @abstractmethod
    async def send(self, kind: SignalKind, payload: dict[str, Any]) -> None:
        """Send one message to the other party; raises SignallingError if it cannot."""

    @abstractmethod
    async def receive(self) -> IncomingSignal | None:
        """The next message from the other party; None once this signalling is closed."""

    @abstractmethod
    async def close(self) -> None:
        """Stop: a pending and every later `receive()` returns None."""


def checked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A JSON round trip of `payload` (what the hub would relay); raises SignallingError."""
    try:
        text = json.dumps(payload, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise SignallingError(f"payload is not JSON: {error}") from None
    if len(text.encode()) > MAX_SIGNAL_PAYLOAD:
        raise SignallingError(f"payload of {len(text)} bytes is over {MAX_SIGNAL_PAYLOAD}")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class InMemorySignalling(Signalling):
    """One end of an in-process pair (tests, the bench): what one sends the other receives."""

    def __init__(self) -> None:
        self._inbox: asyncio.Queue[IncomingSignal | None] = asyncio.Queue()
        self._peer: InMemorySignalling | None = None
        self._closed = False
        #: While True, messages sent either way are lost (a network cut).
        self.cut = False
        #: Every message this end sent, for tests to inspect.
        self.sent: list[IncomingSignal] = []

    @classmethod
    def pair(cls) -> tuple["InMemorySignalling", "InMemorySignalling"]:
        first, second = cls(), cls()
        first._peer, second._peer = second, first
        return first, second

    async def send(self, kind: SignalKind, payload: dict[str, Any]) -> None:
        if self._closed:
            raise SignallingError("signalling is closed")
        message = IncomingSignal(SignalKind(kind), checked_payload(payload))
        self.sent.append(message)
        peer = self._peer
        if peer is None or self.cut or peer.cut or peer._closed:
            return
        peer._inbox.put_nowait(message)

    async def receive(self) -> IncomingSignal | None:
        if self._closed:
            return None
        return await self._inbox.get()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._inbox.put_nowait(None)
