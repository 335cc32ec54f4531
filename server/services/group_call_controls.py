"""The clinician's controls of a group call (admit, mute someone, remove someone, lock, end for
all) and the admission rule every credential passes: ended calls, removed people and locked rooms
refuse; a participant waits in the waiting room until the clinician admits them.

What the clinician decided is stored (server/models/group_call.py), so it holds across server
and Janus restarts; Janus is told at once (kick, mute, the `allowed` lists, destroy).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from sqlmodel import Session, col, select

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


class Admission(StrEnum):
    """What the admission rule lets a credential's asker do now."""

    #: Given a credential: staff, or a participant the clinician admitted (also earlier).
    ADMITTED = "admitted"
    #: A participant who waits in the waiting room until the clinician admits them.
    WAITING = "waiting"


def check_admission(
    session: Session, appointment_id: UUID, member: str, staff: bool
) -> Admission:
    """Refuses a credential the clinician's decisions do not allow (raises ApiError): the call
    ended, the participant was removed, or the room is locked to anyone not admitted before.
    Staff are admitted at once; a participant once the clinician let them in (kept: a
    participant who reconnects is not asked again)."""
    room = session.get(GroupCallRoom, appointment_id)
    if room is not None and room.ended_at is not None:
        raise ApiError(410, "call_ended", "The clinician has ended this group call.")
    if staff:
        return Admission.ADMITTED
    joined = _member(session, appointment_id, member)
    if joined is not None and joined.removed_at is not None:
        raise ApiError(
            403,
            "removed",
            "The clinician has removed you from this group call. "
            "Please contact the clinic if you think this is a mistake.",
        )
    admitted = joined is not None and joined.admitted_at is not None
    if room is not None and room.locked and not admitted:
        raise ApiError(
            423,
            "room_locked",
            "The clinician has locked this group call: nobody new can join now. "
            "Please contact the clinic.",
        )
    return Admission.ADMITTED if admitted else Admission.WAITING


def waiting_refusal() -> ApiError:
    """The answer to a participant who waits to be admitted (202: asked, not yet let in)."""
    return ApiError(
        202,
        "waiting_for_admission",
        "You are in the waiting room. The clinician will let you into the group call shortly.",
    )


def record_join(
    session: Session, appointment_id: UUID, member: str, now: datetime, admitted: bool
) -> bool:
    """`member` asked to join: remembered (a participant waits in the list until admitted);
    `admitted`: given a credential now (staff). True the first time they asked."""
    found = _member(session, appointment_id, member)
    first = found is None
    if found is None:
        found = GroupCallMember(appointment_id=appointment_id, member=member, joined_at=now)
    if admitted and found.admitted_at is None:
        found.admitted_at = now
    session.add(found)
    return first


@dataclass(frozen=True, slots=True)
class WaitingGuest:
    """A participant who asked to join and waits: their id in the rooms, recipient and since."""

    member: str
    recipient: int
    since: datetime


def waiting(session: Session, appointment_id: UUID, present: frozenset[int]) -> list[WaitingGuest]:
    """Who waits to be admitted, oldest first: asked, not admitted or removed, and with their
    page open now (`present`: the link recipients the waiting room sees)."""
    rows = session.exec(
        select(GroupCallMember)
        .where(col(GroupCallMember.appointment_id) == appointment_id)
        .where(col(GroupCallMember.admitted_at).is_(None))
        .where(col(GroupCallMember.removed_at).is_(None))
        .order_by(col(GroupCallMember.joined_at), col(GroupCallMember.member))
    ).all()
    found = []
    for row in rows:
        recipient = _recipient(row.member)
        if recipient is not None and recipient in present:
            found.append(WaitingGuest(row.member, recipient, row.joined_at))
    return found


def _recipient(member: str) -> int | None:
    prefix, _, number = member.partition("-")
    return int(number) if prefix == "guest" and number.isdigit() else None


def admit(
    session: Session, appointment_id: UUID, participants: list[str], now: datetime
) -> list[str]:
    """Lets `participants` in (the caller commits and tells the pages); refused when the room
    is locked or ended, or someone never asked or was removed."""
    room = session.get(GroupCallRoom, appointment_id)
    if room is not None and room.ended_at is not None:
        raise ApiError(410, "call_ended", "This group call has ended.")
    if room is not None and room.locked:
        raise ApiError(409, "room_locked", "The room is locked: unlock it to admit someone.")
    admitted = []
    for participant in dict.fromkeys(participants):
        _guest(session, appointment_id, participant)
        member = _member(session, appointment_id, participant)
        assert member is not None
        if member.removed_at is not None:
            raise ApiError(
                409, "removed", f"{participant} was removed from this call: they stay out."
            )
        member.admitted_at = member.admitted_at or now
        session.add(member)
        admitted.append(participant)
    return admitted


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
        raise ApiError(404, "not_found", "Nobody of that name has asked to join this group call.")


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

