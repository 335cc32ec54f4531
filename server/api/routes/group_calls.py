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
from server.models.appointment import Appointment
from server.models.group_call import GroupCallRoom
from server.realtime import notify
from server.realtime.delivery import Delivery
from server.realtime.patient_protocol import AdmissionEvent
from server.schemas.patient import JoinRequest
from server.security.access_rules import require_visible
from server.services import audit, booking, group_call_controls, group_calls
from server.services.audit import record_patient
from server.services.patient_view import recipient_name
from shared.enums import AppointmentKind
from shared.group_call_protocol import (
    GroupAdmit,
    GroupAdmitted,
    GroupJoin,
    GroupWaiting,
    GroupWaitingList,
)

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
    group_call_controls.record_join(session, row.id, member, caller.now, admitted=True)
    audit.record(session, caller, "appointment.group_join", "appointment", row.id)
    session.commit()
    return answer


@router.post(
    "/patient/group-call",
    summary="Join the group call of the link's appointment (the token in the body); 202 while "
    "the participant waits for the clinician to admit them",
    responses=_ERRORS | error_responses(202, 403, 404, 423, 429),
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
    admission = group_call_controls.check_admission(session, appointment.id, member, staff=False)
    group_calls.available(_rooms(request))  # nobody waits for a call this server cannot hold
    detail = f"link={link.id} recipient={link.recipient}"
    if admission == group_call_controls.Admission.WAITING:
        # Remembered, so the clinician's window lists them while their page is open.
        if group_call_controls.record_join(session, appointment.id, member, now, admitted=False):
            # Audited once: a waiting page asks again each time someone else is admitted.
            record_patient(session, now, address, "group_call.wait", appointment.id, detail)
        session.commit()
        raise group_call_controls.waiting_refusal()
    answer = group_calls.guest_credential(session, _rooms(request), settings, appointment, link)
    group_call_controls.record_join(session, appointment.id, member, now, admitted=True)
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


def _controlled(session: SessionDep, caller: Staff, appointment_id: UUID) -> Appointment:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    if row.kind != AppointmentKind.GROUP:
        raise ApiError(409, "not_group", "Only a group appointment has a group call.")
    return row


def _tell_waiting_pages(session: SessionDep, appointment_id: UUID) -> None:
    """After commit every open page of the appointment hears `admission`: a waiting one asks
    again, and is let in, or told it was removed or that the call ended."""
    notify.send(
        session,
        Delivery(AdmissionEvent().model_dump_json(), users=frozenset(), patient_of=appointment_id),
    )


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


@router.get(
    "/appointments/{appointment_id}/group-call/waiting",
    summary="Who waits in the waiting room to be admitted to the group call (pages open now)",
    responses=error_responses(403, 404, 409),
)
def waiting_list(
    appointment_id: UUID, request: Request, session: SessionDep, caller: Staff
) -> GroupWaitingList:
    appointment = _controlled(session, caller, appointment_id)
    present = state_of(request.app).waiting_room.persons(appointment_id)
    waiting = group_call_controls.waiting(session, appointment_id, present)
    room = session.get(GroupCallRoom, appointment_id)
    return GroupWaitingList(
        waiting=[
            GroupWaiting(
                participant=guest.member,
                display=recipient_name(session, appointment, guest.recipient) or "Guest",
                since=guest.since,
            )
            for guest in waiting
        ],
        locked=room is not None and room.locked,
    )


@router.post(
    "/appointments/{appointment_id}/group-call/admit",
    summary="Admit waiting participants: their pages join the call by themselves",
    responses=error_responses(403, 404, 409, 410),
)
def admit_participants(
    appointment_id: UUID, body: GroupAdmit, session: SessionDep, caller: Staff
) -> GroupAdmitted:
    _controlled(session, caller, appointment_id)
    admitted = group_call_controls.admit(session, appointment_id, body.participants, caller.now)
    _tell_waiting_pages(session, appointment_id)
    audit.record(session, caller, "appointment.group_admit", "appointment", appointment_id,
                 " ".join(admitted))
    session.commit()
    return GroupAdmitted(admitted=admitted)


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
    _tell_waiting_pages(session, appointment_id)  # a waiting one hears it now
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
    _tell_waiting_pages(session, appointment_id)  # those still waiting hear it is over
    return _done(session, caller, "end", appointment_id, "ended")
