"""The clinician's controls of a group call (mute someone, remove someone, lock, end for all) and
the admission rule every credential passes: ended calls, removed people and locked rooms refuse.

What the clinician decided is stored (server/models/group_call.py), so it holds across server
and Janus restarts; Janus is told at once (kick, mute, the `allowed` lists, destroy).
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from sqlmodel import Session

from server.errors import ApiError
from server.janus.client import JanusError, JanusUnreachable
from server.janus.credentials import join_token
from server.janus.rooms import AUDIO_NO_SUCH_USER, GroupRooms
from server.models.group_call import GroupCallMember, GroupCallRoom

log = logging.getLogger("clinicdesk.server.group_calls")

T = TypeVar("T")


def _room(session: Session, appointment_id: UUID) -> GroupCallRoom:
    room = session.get(GroupCallRoom, appointment_id)
    if room is None:
        room = GroupCallRoom(appointment_id=appointment_id)
        session.add(room)
    return room


def _member(session: Session, appointment_id: UUID, member: str) -> GroupCallMember | None:
    return session.get(GroupCallMember, (appointment_id, member))


def check_admission(session: Session, appointment_id: UUID, member: str, staff: bool) -> None:
    """Refuses a credential the clinician's decisions do not allow (raises ApiError)."""
    room = session.get(GroupCallRoom, appointment_id)
    if room is not None and room.ended_at is not None:
        raise ApiError(410, "call_ended", "The clinician has ended this group call.")
    if staff:
        return
    joined = _member(session, appointment_id, member)
    if joined is not None and joined.removed_at is not None:
        raise ApiError(
            403,
            "removed",
            "The clinician has removed you from this group call. "
            "Please contact the clinic if you think this is a mistake.",
        )
    if room is not None and room.locked and joined is None:
        raise ApiError(
            423,
            "room_locked",
            "The clinician has locked this group call: nobody new can join now. "
            "Please contact the clinic.",
        )


def record_join(session: Session, appointment_id: UUID, member: str, now: datetime) -> None:
    """`member` was given a credential: they may come back while the room is locked."""
    if _member(session, appointment_id, member) is None:
        session.add(GroupCallMember(appointment_id=appointment_id, member=member, joined_at=now))


def _sfu(action: Callable[[], T], appointment_id: UUID) -> T:
    try:
        return action()
    except JanusUnreachable as error:
        log.warning("Janus unreachable for appointment %s: %s", appointment_id, error)
        raise ApiError(
            503, "sfu_unreachable", "The group call service is not answering. Try again."
        ) from None
    except JanusError as error:
        log.error("Janus refused a control of appointment %s: %s", appointment_id, error)
        raise ApiError(
            502, "sfu_refused", f"The group call service refused it ({error.reason})."
        ) from None


def _in_call(rooms: GroupRooms | None) -> GroupRooms:
    if rooms is None:
        raise ApiError(503, "group_calls_off", "Group calls are not set up on this server.")
    return rooms


def _guest(session: Session, appointment_id: UUID, participant: str) -> None:
    if not participant.startswith("guest-"):
        raise ApiError(409, "not_a_guest", "Only a participant can be muted or removed.")
    if _member(session, appointment_id, participant) is None:
        raise ApiError(404, "not_found", "Nobody of that name has joined this group call.")


def mute(
    session: Session, rooms: GroupRooms | None, appointment_id: UUID, participant: str, muted: bool
) -> None:
    """Mutes or unmutes a participant in the mix (they can unmute themselves)."""
    _guest(session, appointment_id, participant)
    found = _in_call(rooms)

    def mute_in_room() -> None:
        try:
            found.mute(appointment_id, participant, muted)
        except JanusError as error:
            if error.code == AUDIO_NO_SUCH_USER:
                raise ApiError(404, "not_in_call", "They are not in the call just now.") from None
            raise

    _sfu(mute_in_room, appointment_id)


def remove(
    session: Session,
    rooms: GroupRooms | None,
    secret: str,
    appointment_id: UUID,
    participant: str,
    now: datetime,
) -> None:
    """Sends a participant out; their link no longer opens this call (the caller commits)."""
    _guest(session, appointment_id, participant)
    found = _in_call(rooms)
    token = join_token(secret, appointment_id, participant)
    _sfu(lambda: found.remove(appointment_id, participant, token), appointment_id)
    member = _member(session, appointment_id, participant)
    assert member is not None
    member.removed_at = member.removed_at or now
    session.add(member)


def set_locked(session: Session, appointment_id: UUID, locked: bool) -> None:
    """Locked: only those who joined before may come (back) in (the caller commits)."""
    room = _room(session, appointment_id)
    room.locked = locked
    session.add(room)


def end(session: Session, rooms: GroupRooms | None, appointment_id: UUID, now: datetime) -> None:
    """Ends the call for everyone: the rooms close and no credential opens them again."""
    found = _in_call(rooms)
    _sfu(lambda: found.destroy(appointment_id), appointment_id)
    room = _room(session, appointment_id)
    room.ended_at = room.ended_at or now
    session.add(room)

