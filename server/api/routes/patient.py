"""The patient's side: POST /patient/join (what a link opens) and WS /patient/socket.

No account: the link's token is the credential. It travels in the body or the socket's first
message, never in a URL the server sees. Wrong tokens are rate-limited per client address and
learn nothing; a right token always opens, however many wrong ones came from its address (a
guesser behind the same NAT must not lock the patient out). Expired and cancelled links say
only that.
"""

import asyncio
import json
import logging
import math
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlmodel import Session
from starlette.websockets import WebSocketState

from app.domain.clock import Clock
from app.domain.realtime_protocol import MAX_CLIENT_FRAME, ErrorEvent
from app.domain.status import WAITING_WINDOW, waiting_seconds
from server.api.deps import AddressDep, ClockDep, SessionDep, SettingsDep
from server.api.error_responses import error_responses
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
    PAGE_SIGNAL_KINDS,
    PatientAuth,
    PatientHello,
    PatientPing,
    PatientPong,
    PatientSignal,
    patient_message,
)
from server.realtime.signalling import relay_from_patient
from server.realtime.waiting_room import WaitingRoom
from server.schemas.patient import JoinRequest, PatientAppointment
from server.security.client_address import client_address
from server.security.rate_limit import SlidingWindow
from server.services.audit import record_patient
from server.services.patient_links import LinkState, resolve
from server.services.patient_view import appointment_view, refusal
from server.settings import Settings

log = logging.getLogger("clinicdesk.server.patient")
router = APIRouter(tags=["patient"])

AUTH_TIMEOUT_SECONDS = 10
#: The code uvicorn closes every socket with when the server shuts down ("service restart").
CLOSE_SERVER_STOPPING = 1012
_PONG = json.dumps({"type": "pong"})
_PING = json.dumps({"type": "ping"})
_CLOSE_CODES = {
    LinkState.UNKNOWN: CLOSE_UNKNOWN_LINK,
    LinkState.EXPIRED: CLOSE_LINK_EXPIRED,
    LinkState.CANCELLED: CLOSE_CANCELLED,
}


def early_seconds(start: datetime, now: datetime) -> int:
    """Whole seconds until a waiting patient turns the row green (app.domain.status's rule)."""
    return max(0, math.ceil((start - WAITING_WINDOW - now).total_seconds()))


def _limiter(app: Any) -> SlidingWindow:
    limiter = app.state.join_limiter
    assert isinstance(limiter, SlidingWindow)
    return limiter


def _key(address: str) -> str:
    return f"patient-link {address}"


def _guessing(limiter: SlidingWindow, address: str, now: float) -> int | None:
    """After a wrong link: seconds this address must wait (None: it may try again now)."""
    key = _key(address)
    wait = limiter.retry_after(key, now)
    if wait is None:
        limiter.record(key, now)
    return wait


@router.post(
    "/patient/join",
    summary="What a patient link opens (the token in the body)",
    responses=error_responses(404, 410, 429),
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
    """The appointment and link a valid token opens; refused otherwise, and a wrong token
    counts against its address (a right one never does: a guesser cannot lock out the patient)."""
    resolved = resolve(session, token, now, settings.link_grace_minutes)
    if resolved.state == LinkState.UNKNOWN:
        wait = _guessing(_limiter(request.app), address, now.timestamp())
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                "Too many attempts. Please wait a few minutes and try again.",
                headers={"Retry-After": str(wait)},
            )
    if resolved.state != LinkState.VALID:
        session.rollback()
        status, code, message = refusal(resolved.state, settings)
        raise ApiError(status, code, message)
    assert resolved.appointment is not None and resolved.link is not None
    return resolved.appointment, resolved.link


@dataclass(frozen=True, slots=True)
class _Opened:
    """What a socket's link opened: its state, and its appointment and recipient when known."""

    state: LinkState
    appointment_id: UUID | None = None
    start: datetime | None = None
    #: Whose link: 0 the patient, n a group's n-th participant.
    recipient: int = 0


def _resolve(websocket: WebSocket, token: str) -> _Opened:
    """The link's state, its appointment's id and start, and its recipient (a worker thread)."""
    app = websocket.app
    settings: Settings = app.state.settings
    clock: Clock = app.state.clock
    with Session(app.state.engine) as session:
        resolved = resolve(session, token, clock.now(), settings.link_grace_minutes)
        found = resolved.appointment
        session.rollback()
        if found is None or resolved.link is None:
            return _Opened(resolved.state)
        return _Opened(resolved.state, found.id, found.start, resolved.link.recipient)


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
        #: The server closed the socket because it is stopping (uvicorn's 1012), not the page.
        self.server_stopping = False

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
            try:
                task.result()
            except WebSocketDisconnect as exc:
                self.server_stopping = exc.code == CLOSE_SERVER_STOPPING
            except RuntimeError:
                pass

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
            await self.room.heard(self.appointment_id)
        elif isinstance(message, PatientPong):
            await self.room.heard(self.appointment_id)
        elif isinstance(message, PatientSignal) and message.kind not in PAGE_SIGNAL_KINDS:
            refusal = f"A patient's page may not send {message.kind.value}."
            self.connection.offer(_error("forbidden", refusal, "signal"))
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
    address = client_address(websocket)
    token = await _receive_token(websocket)
    if token is None:
        await websocket.close(CLOSE_TIMEOUT, "send {type: auth, token} first")
        return
    opened = await asyncio.to_thread(_resolve, websocket, token)
    state, appointment_id, start = opened.state, opened.appointment_id, opened.start
    if state != LinkState.VALID or appointment_id is None or start is None:
        if state == LinkState.UNKNOWN and _guessing(
            _limiter(app), address, clock.now().timestamp()
        ):
            await websocket.close(CLOSE_RATE_LIMITED, "too many attempts")
            return
        await websocket.close(_CLOSE_CODES[state], state.value)
        return
    hub: Hub = app.state.hub
    room: WaitingRoom = app.state.waiting_room
    connection = hub.connect_patient(appointment_id)
    socket = _PatientSocket(websocket, connection, appointment_id)
    await room.enter(appointment_id, opened.recipient)
    try:
        now = clock.now()
        hello = PatientHello(
            waited_seconds=waiting_seconds(room.since(appointment_id), now) or 0,
            heartbeat_seconds=socket.settings.patient_heartbeat_seconds,
            early_seconds=early_seconds(start, now),
            now=now,
        )
        await websocket.send_text(hello.model_dump_json())
        for message in room.messages(appointment_id):
            await websocket.send_text(message)
        await socket.serve()
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(connection)
        await room.leave(
            appointment_id,
            opened.recipient,
            at_once=socket.timed_out,
            server_stopping=socket.server_stopping,
        )
        if connection.close_code and websocket.client_state is WebSocketState.CONNECTED:
            with suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(connection.close_code, connection.close_reason)
