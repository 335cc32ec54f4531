"""WS /realtime: one authenticated WebSocket per desktop (messages: shared/realtime_protocol).

The client's first message is {"type": "auth", "access_token": "..."} (tokens stay out of URLs
and logs); it may send a fresh one any time to keep the socket past the token's expiry. The
server answers hello, then sends changes, presence and relayed signal events; a refused client
message gets an error event and the connection stays open (server/realtime/socket_session.py).
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from sqlmodel import Session

from server.api.deps import authenticate
from server.app_state import AppState, state_of
from server.errors import ApiError
from server.realtime.hub import Connection
from server.realtime.signalling import payload_too_large, relay_from_desktop
from server.realtime.socket_session import SocketSession, error_event, receive_first
from server.security.access_rules import may_use_realtime
from server.security.tokens import read_access_token
from server.services.audience import appointment_audience
from server.services.changes import head
from shared.realtime_protocol import (
    CLOSE_AUTH_TIMEOUT,
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    AuthMessage,
    HelloEvent,
    PingMessage,
    PresenceEvent,
    PresenceState,
    SignalMessage,
    client_message,
)

log = logging.getLogger("clinicdesk.server.realtime")
router = APIRouter(tags=["realtime"])

_PONG = json.dumps({"type": "pong"})


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: UUID
    family_id: UUID
    expires_at: datetime
    cursor: int


def _sign_in(state: AppState, token: str) -> SignedIn | int:
    """Who the token belongs to, or the close code; runs in a worker thread (database)."""
    now = state.clock.now()
    with Session(state.engine) as session:
        try:
            user = authenticate(session, state.settings, token, now)
        except ApiError:
            return CLOSE_UNAUTHENTICATED
        if not may_use_realtime(user):
            return CLOSE_FORBIDDEN
        claims = read_access_token(state.settings.signing_key(), token, now)
        return SignedIn(user.id, claims.family_id, claims.expires_at, head(session))


def _parse_auth(raw: str) -> str | None:
    try:
        message = client_message.validate_json(raw)
    except ValidationError:
        return None
    return message.access_token if isinstance(message, AuthMessage) else None


def _refusal(raw: str, error: ValidationError) -> str:
    try:
        kind = json.loads(raw).get("type")
    except (ValueError, AttributeError, RecursionError):
        return error_event("invalid", "Send one JSON object with a type.")
    where = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in error.errors()
    )
    return error_event(
        "invalid", f"The message is not valid: {where}", kind if isinstance(kind, str) else None
    )


async def _handle(state: AppState, connection: Connection, raw: str) -> None:
    """Answer one client message; a refused one gets an error event, never a closed socket."""
    try:
        message = client_message.validate_json(raw)
    except ValidationError as error:
        connection.offer(_refusal(raw, error))
        return
    if isinstance(message, PingMessage):
        connection.offer(_PONG)
    elif isinstance(message, AuthMessage):
        await _renew(state, connection, message.access_token)
    elif isinstance(message, SignalMessage):
        await _signal(state, connection, message)


async def _renew(state: AppState, connection: Connection, token: str) -> None:
    signed = await asyncio.to_thread(_sign_in, state, token)
    if isinstance(signed, int) or signed.user_id != connection.user_id:
        connection.close(CLOSE_UNAUTHENTICATED, "the new access token is not valid for this user")
        return
    state.hub.renew(connection, signed.family_id, signed.expires_at)


async def _signal(state: AppState, connection: Connection, message: SignalMessage) -> None:
    if payload_too_large(message):
        connection.offer(error_event("too_large", "The signalling payload is too large.", "signal"))
        return
    refused = await asyncio.to_thread(
        relay_from_desktop, state.engine, state.hub, connection, message
    )
    if refused is not None:
        connection.offer(refused.model_dump_json())


def _waiting_now(
    state: AppState, user_id: UUID, everyone: dict[UUID, tuple[datetime, int]]
) -> list[PresenceEvent]:
    """Of the patients waiting, those whose appointments the user may see (a worker thread)."""
    events = []
    with Session(state.engine) as session:
        for appointment_id, (since, people) in everyone.items():
            audience = appointment_audience(session, appointment_id)
            if audience is not None and user_id in audience:
                events.append(PresenceEvent(appointment_id=appointment_id,
                                            state=PresenceState.ENTERED, at=since,
                                            people=max(1, people)))
        session.rollback()
    return events


@router.websocket("/realtime")
async def realtime(websocket: WebSocket) -> None:
    state = state_of(websocket.app)
    await websocket.accept()
    raw = await receive_first(websocket)
    token = _parse_auth(raw) if raw is not None else None
    if token is None:
        await websocket.close(CLOSE_AUTH_TIMEOUT, "send {type: auth, access_token} first")
        return
    signed = await asyncio.to_thread(_sign_in, state, token)
    if isinstance(signed, int):
        await websocket.close(signed, "not allowed")
        return
    connection = state.hub.connect(signed.user_id, signed.family_id, signed.expires_at)

    async def handle(message: str) -> None:
        await _handle(state, connection, message)

    async def greeting() -> list[str]:
        # Who is waiting now: a desktop that (re)connects must not wait for the next arrival.
        everyone = await state.waiting_room.everyone()
        waiting = await asyncio.to_thread(_waiting_now, state, signed.user_id, everyone)
        return [HelloEvent(cursor=signed.cursor).model_dump_json()] + [
            event.model_dump_json() for event in waiting
        ]

    await SocketSession(websocket, state.hub, connection, handle, log).run(greeting)
