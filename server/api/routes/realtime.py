"""WS /realtime: one authenticated WebSocket per desktop (messages: app/domain/realtime_protocol).

The client's first message is {"type": "auth", "access_token": "..."} (tokens stay out of URLs
and logs); it may send a fresh one any time to keep the socket past the token's expiry. The
server answers hello, then sends changes, presence and relayed signal events; a refused client
message gets an error event and the connection stays open.
"""

import asyncio
import json
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlmodel import Session
from starlette.websockets import WebSocketState

from app.domain.clock import Clock
from app.domain.enums import Role
from app.domain.realtime_protocol import (
    CLOSE_AUTH_TIMEOUT,
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    MAX_CLIENT_FRAME,
    AuthMessage,
    ErrorEvent,
    HelloEvent,
    PingMessage,
    PresenceEvent,
    PresenceState,
    SignalMessage,
    client_message,
)
from server.api.deps import authenticate
from server.errors import ApiError
from server.realtime.hub import Connection, Hub
from server.realtime.signalling import payload_too_large, relay_from_desktop
from server.realtime.waiting_room import WaitingRoom
from server.security.tokens import read_access_token
from server.services.audience import appointment_audience
from server.services.changes import head
from server.settings import Settings

log = logging.getLogger("clinicdesk.server.realtime")
router = APIRouter(tags=["realtime"])

AUTH_TIMEOUT_SECONDS = 10
_PONG = json.dumps({"type": "pong"})


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: UUID
    family_id: UUID
    expires_at: datetime
    cursor: int


def _sign_in(websocket: WebSocket, token: str) -> SignedIn | int:
    """Who the token belongs to, or the close code; runs in a worker thread (database)."""
    app = websocket.app
    settings: Settings = app.state.settings
    clock: Clock = app.state.clock
    now = clock.now()
    with Session(app.state.engine) as session:
        try:
            user = authenticate(session, settings, token, now)
        except ApiError:
            return CLOSE_UNAUTHENTICATED
        if user.role not in (Role.CLINICIAN, Role.CLERK):
            return CLOSE_FORBIDDEN
        claims = read_access_token(settings.signing_key(), token, now)
        return SignedIn(user.id, claims.family_id, claims.expires_at, head(session))


def _parse_auth(raw: str) -> str | None:
    try:
        message = client_message.validate_json(raw)
    except ValidationError:
        return None
    return message.access_token if isinstance(message, AuthMessage) else None


async def _receive_auth(websocket: WebSocket) -> str | None:
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        return None
    return _parse_auth(raw) if len(raw.encode()) <= MAX_CLIENT_FRAME else None


def _error(code: str, message: str, refused: str | None = None) -> str:
    return ErrorEvent(code=code, message=message, refused=refused).model_dump_json()


def _refusal(raw: str, error: ValidationError) -> str:
    try:
        kind = json.loads(raw).get("type")
    except (ValueError, AttributeError, RecursionError):
        return _error("invalid", "Send one JSON object with a type.")
    where = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in error.errors()
    )
    return _error(
        "invalid", f"The message is not valid: {where}", kind if isinstance(kind, str) else None
    )


async def _handle(websocket: WebSocket, connection: Connection, raw: str) -> None:
    """Answer one client message; a refused one gets an error event, never a closed socket."""
    if len(raw.encode()) > MAX_CLIENT_FRAME:
        connection.offer(_error("too_large", f"Messages are limited to {MAX_CLIENT_FRAME} bytes."))
        return
    try:
        message = client_message.validate_json(raw)
    except ValidationError as error:
        connection.offer(_refusal(raw, error))
        return
    if isinstance(message, PingMessage):
        connection.offer(_PONG)
    elif isinstance(message, AuthMessage):
        await _renew(websocket, connection, message.access_token)
    elif isinstance(message, SignalMessage):
        await _signal(websocket, connection, message)


async def _renew(websocket: WebSocket, connection: Connection, token: str) -> None:
    signed = await asyncio.to_thread(_sign_in, websocket, token)
    if isinstance(signed, int) or signed.user_id != connection.user_id:
        connection.close(CLOSE_UNAUTHENTICATED, "the new access token is not valid for this user")
        return
    hub: Hub = websocket.app.state.hub
    hub.renew(connection, signed.family_id, signed.expires_at)


async def _signal(websocket: WebSocket, connection: Connection, message: SignalMessage) -> None:
    if payload_too_large(message):
        connection.offer(_error("too_large", "The signalling payload is too large.", "signal"))
        return
    app = websocket.app
    refused = await asyncio.to_thread(
        relay_from_desktop, app.state.engine, app.state.hub, connection, message
    )
    if refused is not None:
        connection.offer(refused.model_dump_json())


async def _send_events(websocket: WebSocket, connection: Connection) -> None:
    while True:
        await websocket.send_text(await connection.queue.get())


async def _receive_messages(websocket: WebSocket, connection: Connection) -> None:
    while True:
        raw = await websocket.receive_text()
        try:
            await _handle(websocket, connection, raw)
        except Exception:  # one bad message must not end the connection
            log.exception("realtime message failed")
            connection.offer(_error("internal", "Something went wrong on the server."))


async def _serve(websocket: WebSocket, connection: Connection) -> None:
    tasks = {
        asyncio.ensure_future(_send_events(websocket, connection)),
        asyncio.ensure_future(_receive_messages(websocket, connection)),
        asyncio.ensure_future(connection.closing.wait()),
    }
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in done:
        with suppress(WebSocketDisconnect, RuntimeError):
            task.result()


def _waiting_now(websocket: WebSocket, user_id: UUID) -> list[PresenceEvent]:
    """The patients in this process's waiting room whose appointments the user may see."""
    room: WaitingRoom = websocket.app.state.waiting_room
    events = []
    with Session(websocket.app.state.engine) as session:
        for appointment_id, since in room.everyone().items():
            audience = appointment_audience(session, appointment_id)
            if audience is not None and user_id in audience:
                events.append(PresenceEvent(appointment_id=appointment_id,
                                            state=PresenceState.ENTERED, at=since,
                                            people=max(1, room.people(appointment_id))))
        session.rollback()
    return events


@router.websocket("/realtime")
async def realtime(websocket: WebSocket) -> None:
    await websocket.accept()
    token = await _receive_auth(websocket)
    if token is None:
        await websocket.close(CLOSE_AUTH_TIMEOUT, "send {type: auth, access_token} first")
        return
    signed = await asyncio.to_thread(_sign_in, websocket, token)
    if isinstance(signed, int):
        await websocket.close(signed, "not allowed")
        return
    hub: Hub = websocket.app.state.hub
    connection = hub.connect(signed.user_id, signed.family_id, signed.expires_at)
    try:
        await websocket.send_text(HelloEvent(cursor=signed.cursor).model_dump_json())
        # Who is waiting now: a desktop that (re)connects must not wait for the next arrival.
        for event in await asyncio.to_thread(_waiting_now, websocket, signed.user_id):
            await websocket.send_text(event.model_dump_json())
        await _serve(websocket, connection)
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(connection)
        if connection.close_code and websocket.client_state is WebSocketState.CONNECTED:
            with suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(connection.close_code, connection.close_reason)
