"""Realtime test helpers: sign in on a socket, receive with a deadline, publish presence."""

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.testclient import WebSocketTestSession
from starlette.types import Message

from server.app_state import state_of
from server.services.presence import publish_presence
from server.session_effects import ServerSession
from shared.realtime_protocol import PresenceState

#: Long enough for a slow machine; a test waits this long only when it is failing.
DEADLINE = 10.0


def auth(token: str) -> str:
    return json.dumps({"type": "auth", "access_token": token})


def receive(socket: WebSocketTestSession, timeout: float = DEADLINE) -> dict[str, Any]:
    """The next event, or WebSocketDisconnect when the server closed; fails after `timeout`."""

    async def next_message() -> Message:
        with anyio.fail_after(timeout):
            message: Message = await socket._send_rx.receive()
            return message

    message = socket.portal.call(next_message)
    socket._raise_on_close(message)
    event: dict[str, Any] = json.loads(message["text"])
    return event


def sign_in(socket: WebSocketTestSession, token: str) -> dict[str, Any]:
    """Send the auth message; the hello event."""
    socket.send_text(auth(token))
    hello = receive(socket)
    assert hello["type"] == "hello"
    return hello


def ping(socket: WebSocketTestSession) -> None:
    """A round trip: every message sent before has been handled when the pong arrives."""
    socket.send_text(json.dumps({"type": "ping"}))
    assert receive(socket) == {"type": "pong"}


def presence(
    app: FastAPI, engine: Engine, appointment_id: UUID, state: PresenceState, at: datetime
) -> None:
    """What the patient's waiting-room page will do: publish presence and commit."""
    with ServerSession(engine, hub=state_of(app).hub) as session:
        publish_presence(session, appointment_id, state, at)
        session.commit()
