"""The group call's chat to everyone: Janus's TextRoom over a data channel, for the desktop.

The server creates the TextRoom next to VideoRoom and AudioBridge with the same name and puts
the same join token on its `allowed` list (server/janus/rooms.py), so a credential opens its own
appointment's chat only. Janus offers the data channel ("setup"), the desktop answers ("ack")
and then joins and talks over the channel in TextRoom's JSON; Janus sends every message to
everyone in the room, the sender included (so the sender's own list shows what was delivered).
"""

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from app.media.ice_config import IcePolicy, confined_to, host_addresses, rtc_configuration
from app.media.janus_connection import JanusConnection, JanusGone, JanusRefused
from shared.group_call_protocol import GroupJoin

log = logging.getLogger("clinicdesk.media.group")

TEXTROOM = "janus.plugin.textroom"
#: How long the data channel may take to open and the room to answer the join.
OPEN_SECONDS = 10.0
#: The longest message the window sends (Janus relays any length; people read short ones).
MAX_CHAT_TEXT = 1000


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message as the chat panel shows it: who, when, what (plain text, never markup)."""

    sender: str
    display: str
    text: str
    at: datetime
    mine: bool = False


def _when(value: object) -> datetime:
    """TextRoom's "date" ("2026-12-02T18:01:02+0000"); now when missing or unreadable."""
    with contextlib.suppress(TypeError, ValueError):
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    return datetime.now(UTC)


class GroupChat:
    """Joins the appointment's TextRoom on an open Janus session; `on_message` hears each."""

    def __init__(
        self,
        janus: JanusConnection,
        join: GroupJoin,
        ice: IcePolicy,
        on_message: Callable[[ChatMessage], None],
    ) -> None:
        self.janus = janus
        self.join = join
        self._ice = ice
        self._on_message = on_message
        self._handle = 0
        self._pc: RTCPeerConnection | None = None
        self._channel: RTCDataChannel | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        #: Names of those in the room (TextRoom's username is the participant's id).
        self.names: dict[str, str] = {join.id: join.display}
        #: Why this chat closed (removed by the clinician, the room ended); None: open.
        self.closed: str | None = None

    async def start(self) -> None:
        """Opens the data channel and joins the room; JanusRefused / JanusGone when it cannot."""
        self._handle = await self.janus.attach(TEXTROOM, lambda _event: None)
        offered = await self.janus.message(self._handle, {"request": "setup"})
        offer = offered.get("jsep")
        if offer is None:
            raise JanusRefused(0, "the chat room offered no data channel")
        pc = self._pc = RTCPeerConnection(rtc_configuration(self._ice))
        # Janus sends on the channel the client opened (janus.js opens this label too).
        channel = self._channel = pc.createDataChannel("JanusDataChannel")
        opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        @channel.on("open")
        def on_open() -> None:
            if not opened.done():
                opened.set_result(None)

        channel.on("message", self._received)
        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        with confined_to(host_addresses(self._ice)):
            await pc.setLocalDescription(await pc.createAnswer())
        answer = {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}
        await self.janus.message(self._handle, {"request": "ack"}, answer)
        try:
            await asyncio.wait_for(opened, OPEN_SECONDS)
        except TimeoutError:
            raise JanusGone("the chat's data channel did not open") from None
        joined = await self._request({
            "textroom": "join",
            "room": self.join.room,
            "username": self.join.id,
            "display": self.join.display,
            "token": self.join.join_token,
        })
        for person in joined.get("participants", []):
            self.names[str(person.get("username"))] = str(person.get("display", ""))

    async def send(self, text: str) -> None:
        """Sends `text` to everyone (it comes back as a message once Janus delivered it)."""
        await self._request({"textroom": "message", "room": self.join.room, "text": text})

    async def close(self) -> None:
        for waiting in self._pending.values():
            if not waiting.done():
                waiting.set_exception(JanusGone("the chat closed"))
        if self._pc is not None:
            await self._pc.close()
        if self._handle:
            await self.janus.detach(self._handle)

    async def _request(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel
        if self.closed is not None:
            raise JanusGone(self.closed)
        if channel is None or channel.readyState != "open":
            raise JanusGone("the chat is not connected")
        transaction = secrets.token_hex(8)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = answer
        try:
            channel.send(json.dumps(body | {"transaction": transaction}))
            reply = await asyncio.wait_for(answer, OPEN_SECONDS)
        except TimeoutError:
            raise JanusGone("the chat room did not answer") from None
        finally:
            self._pending.pop(transaction, None)
        if reply.get("textroom") == "error":
            raise JanusRefused(int(reply.get("error_code", 0)), str(reply.get("error", "")))
        return reply

    def _received(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return
        if not isinstance(message, dict):
            return
        waiting = self._pending.get(str(message.get("transaction", "")))
        if waiting is not None and not waiting.done():
            waiting.set_result(message)
            return
        kind = message.get("textroom")
        if kind == "kicked" and str(message.get("username")) == self.join.id:
            self.closed = "the clinician removed you from the call"
        elif kind == "destroyed":
            self.closed = "the group call has ended"
        elif kind == "join":
            self.names[str(message.get("username"))] = str(message.get("display", ""))
        elif kind == "message":
            sender = str(message.get("from", ""))
            text = message.get("text")
            if not isinstance(text, str):
                return
            chat = ChatMessage(
                sender=sender,
                display=self.names.get(sender) or "Participant",
                text=text,
                at=_when(message.get("date")),
                mine=sender == self.join.id,
            )
            try:
                self._on_message(chat)
            except Exception:
                log.exception("a chat listener failed")
