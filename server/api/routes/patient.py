"""The patient's side: POST /patient/join (what a link opens) and WS /patient/socket.

No account: the link's token is the credential. It travels in the body or the socket's first
message, never in a URL the server sees. Wrong tokens are rate-limited per client address and
learn nothing; expired and cancelled links say only that.
"""

import asyncio
import json
import logging
from contextlib import suppress
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlmodel import Session
from starlette.websockets import WebSocketState

from app.domain.clock import Clock
from app.domain.realtime_protocol import MAX_CLIENT_FRAME, ErrorEvent
from server.api.deps import AddressDep, ClockDep, SessionDep, SettingsDep
from server.errors import ApiError
from server.models.appointment import Appointment
from server.models.invite import PatientLink
from server.realtime.hub import Connection, Hub
from server.realtime.patient_protocol import (
    CLOSE_CANCELLED,
    CLOSE_LINK_EXPIRED,
    CLOSE_RATE_LIMITED,
    CLOSE_TIMEOUT,
    CLOSE_UNKNOWN_LINK,
    PatientAuth,
    PatientHello,
    PatientPing,
    PatientSignal,
    patient_message,
)
from server.realtime.signalling import relay_from_patient
from server.realtime.waiting_room import WaitingRoom
from server.schemas.patient import JoinRequest, PatientAppointment
from server.security.rate_limit import LoginLimiter
from server.services.audit import record_patient
from server.services.patient_links import LinkState, resolve
from server.services.patient_view import appointment_view, refusal
from server.settings import Settings

log = logging.getLogger("clinicdesk.server.patient")
router = APIRouter(tags=["patient"])

AUTH_TIMEOUT_SECONDS = 10
_PONG = json.dumps({"type": "pong"})
_PING = json.dumps({"type": "ping"})
_CLOSE_CODES = {
    LinkState.UNKNOWN: CLOSE_UNKNOWN_LINK,
    LinkState.EXPIRED: CLOSE_LINK_EXPIRED,
    LinkState.CANCELLED: CLOSE_CANCELLED,
}


def _limiter(app: Any) -> LoginLimiter:
    limiter = app.state.join_limiter
    assert isinstance(limiter, LoginLimiter)
    return limiter


def _key(address: str) -> str:
    # The limiter counts per "account" and per address: here both are the address.
    return f"patient-link {address}"


def _too_many(limiter: LoginLimiter, address: str, now: float) -> int | None:
    return limiter.retry_after(_key(address), address, now)


@router.post(
    "/patient/join",
    summary="What a patient link opens (the token in the body)",
    responses={404: {"description": "unknown link"}, 410: {"description": "expired, cancelled"}},
)
def join(
    body: JoinRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    address: AddressDep,
) -> PatientAppointment:
    now = clock.now()
    appointment, link = open_link(request, session, settings, address, body.token, now)
    answer = appointment_view(session, settings, appointment, link)
    detail = f"link={link.id} recipient={link.recipient}"
    record_patient(session, now, address, "patient_link.open", link.appointment_id, detail)
    session.commit()
    return answer


def open_link(
    request: Request,
    session: Session,
    settings: Settings,
    address: str,
    token: str,
    now: datetime,
) -> tuple[Appointment, PatientLink]:
    """The appointment and link a valid token opens; refused (and rate-limited) otherwise."""
    limiter = _limiter(request.app)
    wait = _too_many(limiter, address, now.timestamp())
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            "Too many attempts. Please wait a few minutes and try again.",
            headers={"Retry-After": str(wait)},
        )
    resolved = resolve(session, token, now, settings.link_grace_minutes)
    if resolved.state == LinkState.UNKNOWN:
        limiter.record_failure(_key(address), address, now.timestamp())
    if resolved.state != LinkState.VALID:
        session.rollback()
        status, code, message = refusal(resolved.state, settings)
        raise ApiError(status, code, message)
    assert resolved.appointment is not None and resolved.link is not None
    return resolved.appointment, resolved.link


def _resolve(websocket: WebSocket, token: str) -> tuple[LinkState, UUID | None]:
    """The link's state and appointment (a worker thread)."""
    app = websocket.app
    settings: Settings = app.state.settings
    clock: Clock = app.state.clock
    with Session(app.state.engine) as session:
        resolved = resolve(session, token, clock.now(), settings.link_grace_minutes)
        found = resolved.appointment.id if resolved.appointment is not None else None
        session.rollback()
        return resolved.state, found


async def _receive_token(websocket: WebSocket) -> str | None:
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS)
        message = patient_message.validate_json(raw)
    except (TimeoutError, ValidationError):
        return None
    return message.token if isinstance(message, PatientAuth) else None


def _error(code: str, message: str, refused: str | None = None) -> str:
    return ErrorEvent(code=code, message=message, refused=refused).model_dump_json()


class _PatientSocket:
    """One open waiting-room page: heartbeat, relayed messages, signalling from the page."""

    def __init__(self, websocket: WebSocket, connection: Connection, appointment_id: UUID):
        self.websocket = websocket
        self.connection = connection
        self.appointment_id = appointment_id
        self.settings: Settings = websocket.app.state.settings
        self.room: WaitingRoom = websocket.app.state.waiting_room
        self.timed_out = False

    async def serve(self) -> None:
        tasks = {
            asyncio.ensure_future(self._send_events()),
            asyncio.ensure_future(self._receive_messages()),
            asyncio.ensure_future(self._ping()),
            asyncio.ensure_future(self.connection.closing.wait()),
        }
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            with suppress(WebSocketDisconnect, RuntimeError):
                task.result()

    async def _send_events(self) -> None:
        while True:
            message = await self.connection.queue.get()
            if message.startswith('{"type":"message"'):
                self.room.remember(self.appointment_id, message)
            await self.websocket.send_text(message)

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.settings.patient_heartbeat_seconds)
            self.connection.offer(_PING)

    async def _receive_messages(self) -> None:
        timeout = self.settings.patient_heartbeat_timeout_seconds
        while True:
            try:
                raw = await asyncio.wait_for(self.websocket.receive_text(), timeout)
            except TimeoutError:
                self.timed_out = True
                self.connection.close(CLOSE_TIMEOUT, "no heartbeat")
                return
            try:
                await self._handle(raw)
            except Exception:  # one bad message must not end the connection
                log.exception("patient message failed")
                self.connection.offer(_error("internal", "Something went wrong on the server."))

    async def _handle(self, raw: str) -> None:
        if len(raw.encode()) > MAX_CLIENT_FRAME:
            self.connection.offer(_error("too_large", "The message is too large."))
            return
        try:
            message = patient_message.validate_json(raw)
        except ValidationError:
            self.connection.offer(_error("invalid", "The message is not valid."))
            return
        if isinstance(message, PatientPing):
            self.connection.offer(_PONG)
        elif isinstance(message, PatientSignal):
            app = self.websocket.app
            refused = await asyncio.to_thread(
                relay_from_patient,
                app.state.engine,
                app.state.hub,
                self.appointment_id,
                message,
            )
            if refused is not None:
                self.connection.offer(refused.model_dump_json())


@router.websocket("/patient/socket")
async def patient_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    app = websocket.app
    clock: Clock = app.state.clock
    address = websocket.client.host if websocket.client else ""
    token = await _receive_token(websocket)
    if token is None:
        await websocket.close(CLOSE_TIMEOUT, "send {type: auth, token} first")
        return
    limiter = _limiter(app)
    if _too_many(limiter, address, clock.now().timestamp()) is not None:
        await websocket.close(CLOSE_RATE_LIMITED, "too many attempts")
        return
    state, appointment_id = await asyncio.to_thread(_resolve, websocket, token)
    if state != LinkState.VALID or appointment_id is None:
        if state == LinkState.UNKNOWN:
            limiter.record_failure(_key(address), address, clock.now().timestamp())
        await websocket.close(_CLOSE_CODES[state], state.value)
        return
    hub: Hub = app.state.hub
    room: WaitingRoom = app.state.waiting_room
    connection = hub.connect_patient(appointment_id)
    socket = _PatientSocket(websocket, connection, appointment_id)
    await room.enter(appointment_id)
    try:
        since = room.since(appointment_id)
        waited = max(0, int((clock.now() - since).total_seconds())) if since else 0
        hello = PatientHello(
            waited_seconds=waited, heartbeat_seconds=socket.settings.patient_heartbeat_seconds
        )
        await websocket.send_text(hello.model_dump_json())
        for message in room.messages(appointment_id):
            await websocket.send_text(message)
        await socket.serve()
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(connection)
        await room.leave(appointment_id, at_once=socket.timed_out)
        if connection.close_code and websocket.client_state is WebSocketState.CONNECTED:
            with suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(connection.close_code, connection.close_reason)
