"""Join credentials for a group appointment's call on the SFU: for staff, and for a link's holder.

The Janus URL the server manages rooms through, and its secrets, never leave the server; an
answer carries only what its holder needs to join that one appointment's rooms.
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict

from server.api.deps import AddressDep, ClockDep, SessionDep, SettingsDep, Staff
from server.api.error_responses import error_responses
from server.api.routes.patient import open_link
from server.app_state import state_of
from server.errors import ApiError
from server.janus.rooms import GroupRooms
from server.schemas.patient import JoinRequest
from server.security.access_rules import require_visible
from server.services import audit, booking, group_call_controls, group_calls
from server.services.audit import record_patient
from shared.enums import AppointmentKind
from shared.group_call_protocol import GroupJoin

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
    member = f"staff-{caller.user.id}"
    group_call_controls.check_admission(session, row.id, member, staff=True)
    session.rollback()  # Janus may take a while: hold no transaction open meanwhile.
    answer = group_calls.staff_credential(_rooms(request), settings, row, caller.user)
    group_call_controls.record_join(session, row.id, member, caller.now)
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
    member = f"guest-{link.recipient}"
    group_call_controls.check_admission(session, appointment.id, member, staff=False)
    answer = group_calls.guest_credential(session, _rooms(request), settings, appointment, link)
    group_call_controls.record_join(session, appointment.id, member, now)
    detail = f"link={link.id} recipient={link.recipient}"
    record_patient(session, now, address, "group_call.join", appointment.id, detail)
    session.commit()
    return answer


# -- the clinician's controls ------------------------------------------------------------------

#: A participant's id in the rooms ("guest-3"), as the credential and Janus's events name them.
Participant = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z]+-[0-9a-f-]+$")]


class MuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    muted: bool


class LockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locked: bool


class ControlAnswer(BaseModel):
    """What the control did, in words for the clinician's window."""

    status: str


def _controlled(session: SessionDep, caller: Staff, appointment_id: UUID) -> None:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    if row.kind != AppointmentKind.GROUP:
        raise ApiError(409, "not_group", "Only a group appointment has a group call.")


def _done(
    session: SessionDep,
    caller: Staff,
    action: str,
    appointment_id: UUID,
    status: str,
    detail: str = "",
) -> ControlAnswer:
    """Audited and committed: the answer saying what was done."""
    audit.record(session, caller, f"appointment.group_{action}", "appointment", appointment_id,
                 detail)
    session.commit()
    return ControlAnswer(status=status)


_CONTROL_ERRORS = error_responses(403, 404, 409, 502, 503)


@router.post(
    "/appointments/{appointment_id}/group-call/participants/{participant}/mute",
    summary="Mute or unmute a participant in the group call's mix",
    responses=_CONTROL_ERRORS,
)
def mute_participant(
    appointment_id: UUID,
    participant: Participant,
    body: MuteRequest,
    request: Request,
    session: SessionDep,
    caller: Staff,
) -> ControlAnswer:
    _controlled(session, caller, appointment_id)
    group_call_controls.mute(session, _rooms(request), appointment_id, participant, body.muted)
    action = "mute" if body.muted else "unmute"
    return _done(session, caller, action, appointment_id, f"{action}d", participant)


@router.post(
    "/appointments/{appointment_id}/group-call/participants/{participant}/remove",
    summary="Remove a participant: out of the call, and their link no longer opens it",
    responses=_CONTROL_ERRORS,
)
def remove_participant(
    appointment_id: UUID,
    participant: Participant,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: Staff,
) -> ControlAnswer:
    _controlled(session, caller, appointment_id)
    group_call_controls.remove(
        session, _rooms(request), settings.signing_key(), appointment_id, participant, caller.now
    )
    return _done(session, caller, "remove", appointment_id, "removed", participant)


@router.post(
    "/appointments/{appointment_id}/group-call/lock",
    summary="Lock the group call (nobody new joins) or open it again",
    responses=error_responses(403, 404, 409),
)
def lock_room(
    appointment_id: UUID, body: LockRequest, session: SessionDep, caller: Staff
) -> ControlAnswer:
    _controlled(session, caller, appointment_id)
    group_call_controls.set_locked(session, appointment_id, body.locked)
    action = "lock" if body.locked else "unlock"
    return _done(session, caller, action, appointment_id, "locked" if body.locked else "open")


@router.post(
    "/appointments/{appointment_id}/group-call/end",
    summary="End the group call for everyone (the rooms close; no credential opens them again)",
    responses=_CONTROL_ERRORS,
)
def end_for_all(
    appointment_id: UUID, request: Request, session: SessionDep, caller: Staff
) -> ControlAnswer:
    _controlled(session, caller, appointment_id)
    group_call_controls.end(session, _rooms(request), appointment_id, caller.now)
    return _done(session, caller, "end", appointment_id, "ended")
