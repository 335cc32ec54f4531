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
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request, WebSocket
from pydantic import ValidationError
from sqlmodel import Session

from server.api.deps import AddressDep, ClockDep, SessionDep, SettingsDep
from server.api.error_responses import error_responses
from server.app_state import AppState, state_of
from server.errors import ApiError
from server.models.appointment import Appointment
from server.models.invite import PatientLink
from server.realtime.hub import Connection
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
from server.realtime.socket_session import SocketSession, error_event, receive_first
from server.schemas.patient import JoinRequest, PatientAppointment
from server.security.client_address import client_address
from server.security.rate_limit import SlidingWindow
from server.services.audit import record_patient
from server.services.patient_links import LinkState, resolve
from server.services.patient_view import appointment_view, refusal
from server.settings import Settings
from shared.status import WAITING_WINDOW, waiting_seconds

log = logging.getLogger("clinicdesk.server.patient")
router = APIRouter(tags=["patient"])

_PONG = json.dumps({"type": "pong"})
_PING = json.dumps({"type": "ping"})
_CLOSE_CODES = {
    LinkState.UNKNOWN: CLOSE_UNKNOWN_LINK,
    LinkState.EXPIRED: CLOSE_LINK_EXPIRED,
    LinkState.CANCELLED: CLOSE_CANCELLED,
}


def early_seconds(start: datetime, now: datetime) -> int:
    """Whole seconds until a waiting patient turns the row green (shared.status's rule)."""
    return max(0, math.ceil((start - WAITING_WINDOW - now).total_seconds()))


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
        wait = _guessing(state_of(request.app).join_limiter, address, now.timestamp())
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

    link: LinkState
    appointment_id: UUID | None = None
    start: datetime | None = None
    #: Whose link: 0 the patient, n a group's n-th participant.
    recipient: int = 0


def _resolve(state: AppState, token: str) -> _Opened:
    """The link's state, its appointment's id and start, and its recipient (a worker thread)."""
    with Session(state.engine) as session:
        resolved = resolve(session, token, state.clock.now(), state.settings.link_grace_minutes)
        found = resolved.appointment
        session.rollback()
        if found is None or resolved.link is None:
            return _Opened(resolved.state)
        return _Opened(resolved.state, found.id, found.start, resolved.link.recipient)


def _parse_token(raw: str) -> str | None:
    try:
        message = patient_message.validate_json(raw)
    except ValidationError:
        return None
    return message.token if isinstance(message, PatientAuth) else None


class _PatientMessages:
    """What one open waiting-room page says: heartbeats and signalling, and its ping."""

    def __init__(self, state: AppState, connection: Connection, appointment_id: UUID):
        self.state = state
        self.connection = connection
        self.appointment_id = appointment_id

    def remember(self, message: str) -> None:
        """Staff messages to the patient are kept for a page that reloads."""
        if message.startswith('{"type":"message"'):
            self.state.waiting_room.remember(self.appointment_id, message)

    async def ping(self) -> None:
        while True:
            await asyncio.sleep(self.state.settings.patient_heartbeat_seconds)
            self.connection.offer(_PING)

    async def handle(self, raw: str) -> None:
        room = self.state.waiting_room
        try:
            message = patient_message.validate_json(raw)
        except ValidationError:
            self.connection.offer(error_event("invalid", "The message is not valid."))
            return
        if isinstance(message, PatientPing):
            self.connection.offer(_PONG)
            await room.heard(self.appointment_id)
        elif isinstance(message, PatientPong):
            await room.heard(self.appointment_id)
        elif isinstance(message, PatientSignal) and message.kind not in PAGE_SIGNAL_KINDS:
            refusal = f"A patient's page may not send {message.kind.value}."
            self.connection.offer(error_event("forbidden", refusal, "signal"))
        elif isinstance(message, PatientSignal):
            refused = await asyncio.to_thread(
                relay_from_patient, self.state.engine, self.state.hub, self.appointment_id, message
            )
            if refused is not None:
                self.connection.offer(refused.model_dump_json())


@router.websocket("/patient/socket")
async def patient_socket(websocket: WebSocket) -> None:
    state = state_of(websocket.app)
    await websocket.accept()
    address = client_address(websocket)
    raw = await receive_first(websocket)
    token = _parse_token(raw) if raw is not None else None
    if token is None:
        await websocket.close(CLOSE_TIMEOUT, "send {type: auth, token} first")
        return
    opened = await asyncio.to_thread(_resolve, state, token)
    link, appointment_id, start = opened.link, opened.appointment_id, opened.start
    if link != LinkState.VALID or appointment_id is None or start is None:
        if link == LinkState.UNKNOWN and _guessing(
            state.join_limiter, address, state.clock.now().timestamp()
        ):
            await websocket.close(CLOSE_RATE_LIMITED, "too many attempts")
            return
        await websocket.close(_CLOSE_CODES[link], link.value)
        return
    room, settings = state.waiting_room, state.settings
    connection = state.hub.connect_patient(appointment_id)
    page = _PatientMessages(state, connection, appointment_id)
    socket = SocketSession(
        websocket,
        state.hub,
        connection,
        page.handle,
        log,
        idle_timeout=settings.patient_heartbeat_timeout_seconds,
        idle_close=(CLOSE_TIMEOUT, "no heartbeat"),
        before_send=page.remember,
    )

    since = await room.enter(appointment_id, opened.recipient, connection.id)

    async def greeting() -> list[str]:
        now = state.clock.now()
        hello = PatientHello(
            waited_seconds=waiting_seconds(since, now) or 0,
            heartbeat_seconds=settings.patient_heartbeat_seconds,
            early_seconds=early_seconds(start, now),
            now=now,
        )
        return [hello.model_dump_json(), *await room.messages(appointment_id)]

    try:
        await socket.run(greeting, also=[page.ping])
    finally:
        await room.leave(
            appointment_id,
            opened.recipient,
            connection.id,
            at_once=socket.timed_out,
            server_stopping=socket.server_stopping,
        )
