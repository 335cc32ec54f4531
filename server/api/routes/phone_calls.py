"""Phone calls to a patient's telephone, dialled by the server through Janus's SIP plugin.

The desktop sends its audio offer and then long-polls the call's events; hang up, DTMF keys
and hold go to the call. Only the user who dialled sees or steers a call.
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from server.api.deps import ClockDep, SessionDep, SettingsDep, Staff
from server.api.error_responses import error_responses
from server.app_state import state_of
from server.errors import ApiError
from server.janus.client import JanusError, JanusUnreachable
from server.security.access_rules import require_visible
from server.services import audit, booking, phone_dialling
from server.services.caller import Caller
from server.services.phone_calls import PhoneCall, PhoneCalls
from shared.phone_call_protocol import (
    PhoneCallStarted,
    PhoneDial,
    PhoneEvents,
    PhoneHold,
    PhoneKeys,
)

router = APIRouter(tags=["phone calls"])

#: The longest one events request waits for something to happen.
MAX_WAIT_SECONDS = 25.0


def calls_of(request: Request) -> PhoneCalls:
    return state_of(request.app).phone_calls


def _own_call(request: Request, session: Session, call_id: UUID, caller: Caller) -> PhoneCall:
    user_id = caller.user.id
    # Waiting on Janus or on the call's next event: hold no transaction open meanwhile (and
    # touch no expired row after it, which would open one again).
    session.rollback()
    call = calls_of(request).get(call_id)
    if call is None or call.user_id != user_id:
        raise ApiError(404, "not_found", "No such phone call.")
    return call


@router.post(
    "/appointments/{appointment_id}/phone-call",
    summary="Ring the patient's phone (the desktop's audio offer in the body)",
    responses=error_responses(403, 404, 409, 503),
)
def dial(
    appointment_id: UUID,
    body: PhoneDial,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    caller: Staff,
) -> PhoneCallStarted:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    state = state_of(request.app)
    started = phone_dialling.dial(
        session, state.engine, state.hub, state.phone_calls, settings, clock, row, caller.user,
        body.sdp, outbound=state.hl7_outbound,
    )
    audit.record(session, caller, "appointment.phone_call", "appointment", row.id)
    session.commit()
    return started


@router.get(
    "/phone-calls/{call_id}/events",
    summary="The call's events after `after` (waits up to `wait` seconds for one)",
    responses=error_responses(403, 404),
)
def events(
    call_id: UUID,
    request: Request,
    session: SessionDep,
    caller: Staff,
    after: Annotated[int, Query(ge=0)] = 0,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS)] = 20.0,
) -> PhoneEvents:
    call = _own_call(request, session, call_id, caller)
    return PhoneEvents(events=call.wait_events(after, wait))


@router.post(
    "/phone-calls/{call_id}/hangup",
    status_code=204,
    summary="Hang up (or stop a phone still ringing)",
    responses=error_responses(403, 404),
)
def hang_up(call_id: UUID, request: Request, session: SessionDep, caller: Staff) -> Response:
    _own_call(request, session, call_id, caller).hang_up()
    return Response(status_code=204)


def _steer(call: PhoneCall, body: dict[str, object]) -> Response:
    if call.over or call.answered_at is None:
        raise ApiError(409, "not_connected", "The call is not connected.")
    try:
        call.send(body)
    except (JanusUnreachable, JanusError):
        raise ApiError(503, "phone_unreachable", "The phone service is not answering.") from None
    return Response(status_code=204)


@router.post(
    "/phone-calls/{call_id}/keys",
    status_code=204,
    summary="Send DTMF keys (SIP INFO) to the phone",
    responses=error_responses(403, 404, 409, 503),
)
def keys(
    call_id: UUID, body: PhoneKeys, request: Request, session: SessionDep, caller: Staff
) -> Response:
    call = _own_call(request, session, call_id, caller)
    for digit in body.digits:
        _steer(call, {"request": "dtmf_info", "digit": digit, "duration": 160})
    return Response(status_code=204)


@router.post(
    "/phone-calls/{call_id}/hold",
    status_code=204,
    summary="Put the call on hold, or take it off hold",
    responses=error_responses(403, 404, 409, 503),
)
def hold(
    call_id: UUID, body: PhoneHold, request: Request, session: SessionDep, caller: Staff
) -> Response:
    call = _own_call(request, session, call_id, caller)
    request_body: dict[str, object] = (
        {"request": "hold", "direction": "sendonly"} if body.hold else {"request": "unhold"}
    )
    return _steer(call, request_body)
