"""WS /realtime: one authenticated WebSocket per desktop, told when changes are available.

The client's first message is {"type": "auth", "access_token": "..."} (tokens stay out of URLs
and logs). The server answers {"type": "hello", "cursor": N}, then sends
{"type": "changes", "cursor": N} after every committed change; {"type": "ping"} gets a pong.
"""

import asyncio
import json
from contextlib import suppress

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session
from starlette.websockets import WebSocketState

from app.domain.clock import Clock
from app.domain.enums import Role
from server.api.deps import authenticate
from server.errors import ApiError
from server.realtime.hub import Connection, Hub
from server.services.changes import head
from server.settings import Settings

router = APIRouter(tags=["realtime"])

AUTH_TIMEOUT_SECONDS = 10
#: Close codes: 4401 not signed in, 4403 role not allowed, 4408 no auth message in time,
#: 4409 too slow to read events.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_TOO_SLOW = 4409


def _sign_in(websocket: WebSocket, token: str) -> tuple[int, int]:
    """(close code or 0, cursor) for the token; runs in a worker thread (database)."""
    app = websocket.app
    settings: Settings = app.state.settings
    clock: Clock = app.state.clock
    with Session(app.state.engine) as session:
        try:
            user = authenticate(session, settings, token, clock.now())
        except ApiError:
            return CLOSE_UNAUTHENTICATED, 0
        if user.role not in (Role.CLINICIAN, Role.CLERK):
            return CLOSE_FORBIDDEN, 0
        websocket.state.user_id = user.id
        return 0, head(session)


async def _receive_auth(websocket: WebSocket) -> str | None:
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS)
        message = json.loads(raw)
    except (TimeoutError, ValueError):
        return None
    if not isinstance(message, dict) or message.get("type") != "auth":
        return None
    token = message.get("access_token")
    return token if isinstance(token, str) else None


async def _send_events(websocket: WebSocket, connection: Connection) -> None:
    while True:
        message = await connection.queue.get()
        await websocket.send_text(message)


async def _answer_pings(websocket: WebSocket) -> None:
    while True:
        raw = await websocket.receive_text()
        with suppress(ValueError):
            if json.loads(raw).get("type") == "ping":
                await websocket.send_text(json.dumps({"type": "pong"}))


@router.websocket("/realtime")
async def realtime(websocket: WebSocket) -> None:
    await websocket.accept()
    token = await _receive_auth(websocket)
    if token is None:
        await websocket.close(CLOSE_AUTH_TIMEOUT, "send {type: auth, access_token} first")
        return
    code, cursor = await asyncio.to_thread(_sign_in, websocket, token)
    if code:
        await websocket.close(code, "not allowed")
        return
    hub: Hub = websocket.app.state.hub
    connection = hub.connect(websocket.state.user_id)
    try:
        await websocket.send_text(json.dumps({"type": "hello", "cursor": cursor}))
        tasks = {
            asyncio.ensure_future(_send_events(websocket, connection)),
            asyncio.ensure_future(_answer_pings(websocket)),
        }
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            with suppress(WebSocketDisconnect, RuntimeError):
                task.result()
    finally:
        hub.disconnect(connection)
        if connection.dropped and websocket.client_state is WebSocketState.CONNECTED:
            with suppress(RuntimeError):
                await websocket.close(CLOSE_TOO_SLOW, "too slow")
