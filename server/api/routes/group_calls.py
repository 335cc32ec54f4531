"""Join credentials for a group appointment's call on the SFU: for staff, and for a link's holder.

The Janus URL the server manages rooms through, and its secrets, never leave the server; an
answer carries only what its holder needs to join that one appointment's rooms.
"""

from uuid import UUID

from fastapi import APIRouter, Request

from app.domain.group_call_protocol import GroupJoin
from server.api.deps import AddressDep, ClockDep, SessionDep, SettingsDep, Staff
from server.api.error_responses import error_responses
from server.api.routes.patient import open_link
from server.app_state import state_of
from server.janus.rooms import GroupRooms
from server.schemas.patient import JoinRequest
from server.security.access_rules import require_visible
from server.services import audit, booking, group_calls
from server.services.audit import record_patient

router = APIRouter(tags=["group calls"])

#: 409: not a group appointment, or cancelled / no-show; 410: the call is over; 502: the SFU
#: refused the room; 503: group calls are off, or the SFU is not answering.
_ERRORS = error_responses(409, 410, 502, 503)


def _rooms(request: Request) -> GroupRooms | None:
    return state_of(request.app).group_rooms


@router.post(
    "/appointments/{appointment_id}/group-call",
    summary="Join a group appointment's call (the rooms are created if needed)",
    responses=_ERRORS | error_responses(403),
)
def staff_join(
    appointment_id: UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: Staff,
) -> GroupJoin:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    group_calls.check_joinable(row, settings, caller.now)
    session.rollback()  # Janus may take a while: hold no transaction open meanwhile.
    answer = group_calls.staff_credential(_rooms(request), settings, row, caller.user)
    audit.record(session, caller, "appointment.group_join", "appointment", row.id)
    session.commit()
    return answer


@router.post(
    "/patient/group-call",
    summary="Join the group call of the link's appointment (the token in the body)",
    responses=_ERRORS | error_responses(404, 429),
)
def guest_join(
    body: JoinRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    address: AddressDep,
) -> GroupJoin:
    now = clock.now()
    appointment, link = open_link(request, session, settings, address, body.token, now)
    group_calls.check_joinable(appointment, settings, now)
    answer = group_calls.guest_credential(session, _rooms(request), settings, appointment, link)
    detail = f"link={link.id} recipient={link.recipient}"
    record_patient(session, now, address, "group_call.join", appointment.id, detail)
    session.commit()
    return answer
