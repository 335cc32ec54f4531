"""Join credentials for a group appointment's Janus rooms, for staff and for invited guests.

The rooms are created on Janus the first time someone asks to join (and again after Janus
restarts); each credential's join token is added to that appointment's rooms only.
"""

import logging
from datetime import datetime

from sqlmodel import Session

from server.errors import ApiError
from server.janus.client import JanusClient, JanusError, JanusUnreachable
from server.janus.credentials import janus_token, join_token
from server.janus.rooms import GroupRooms
from server.models.appointment import Appointment
from server.models.invite import PatientLink
from server.models.user import User
from server.services.call_ice import ice_servers_for_call
from server.services.patient_links import valid_until
from server.services.patient_view import recipient_name
from server.settings import Settings
from shared.enums import AppointmentKind, AppointmentStatus
from shared.group_call_protocol import GroupIceServer, GroupJoin

log = logging.getLogger("clinicdesk.server.group_calls")

#: Appointments whose call can still be joined.
_JOINABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.TAKEN)


def group_rooms(settings: Settings) -> GroupRooms | None:
    """The rooms on the configured Janus, or None when group calls are off."""
    if not settings.janus_url:
        return None
    client = JanusClient(
        settings.janus_url,
        settings.janus_api_secret.get_secret_value(),
        settings.janus_timeout_seconds,
    )
    return GroupRooms(
        client, settings.janus_room_key.get_secret_value(), settings.signing_key()
    )


def check_joinable(appointment: Appointment, settings: Settings, now: datetime) -> None:
    if appointment.kind != AppointmentKind.GROUP:
        raise ApiError(409, "not_group", "Only a group appointment has a group call.")
    if appointment.status not in _JOINABLE:
        raise ApiError(409, "call_closed", f"A {appointment.status} appointment has no call.")
    if now >= valid_until(appointment, settings.link_grace_minutes):
        raise ApiError(410, "call_over", "This group call is over.")


def available(rooms: GroupRooms | None) -> GroupRooms:
    """The rooms, or the refusal when this server has no SFU (before anyone waits for a call)."""
    if rooms is None:
        raise ApiError(
            503,
            "group_calls_off",
            "Group calls are not set up on this server (no SFU). Ask your IT team.",
        )
    return rooms


def _credential(
    rooms: GroupRooms | None,
    settings: Settings,
    appointment: Appointment,
    who: str,
    display: str,
    role: str,
) -> GroupJoin:
    found = available(rooms)
    secret = settings.signing_key()
    token = join_token(secret, appointment.id, who)
    try:
        room = found.admit(appointment.id, token, f"Group appointment {appointment.id}")
    except JanusUnreachable as error:
        log.warning("Janus unreachable for appointment %s: %s", appointment.id, error)
        raise ApiError(
            503,
            "sfu_unreachable",
            "The group call service is not answering. Try again in a minute.",
        ) from None
    except JanusError as error:
        log.error("Janus refused the rooms of appointment %s: %s", appointment.id, error)
        raise ApiError(
            502, "sfu_refused", f"The group call service refused the room ({error.code})."
        ) from None
    expires = valid_until(appointment, settings.link_grace_minutes)
    # Each participant's legs get their own TURN credentials, valid as long as the join.
    ice = ice_servers_for_call(settings, f"group-{appointment.id}-{who}", expires)
    return GroupJoin(
        janus_url=settings.janus_public_url,
        janus_token=janus_token(settings.janus_token_secret.get_secret_value(), expires),
        room=room,
        join_token=token,
        id=who,
        display=display,
        role="staff" if role == "staff" else "guest",
        expires_at=expires,
        ice_servers=[GroupIceServer.model_validate(server.model_dump())
                     for server in ice.ice_servers],
        ice_transport_policy=ice.ice_transport_policy,
    )


def staff_credential(
    rooms: GroupRooms | None, settings: Settings, appointment: Appointment, user: User
) -> GroupJoin:
    """A clinician's or clerk's credential (the caller may see the appointment)."""
    return _credential(rooms, settings, appointment, f"staff-{user.id}", user.full_name, "staff")


def guest_credential(
    session: Session,
    rooms: GroupRooms | None,
    settings: Settings,
    appointment: Appointment,
    link: PatientLink,
) -> GroupJoin:
    """The credential of the person a patient link was made for (the patient or a participant)."""
    display = recipient_name(session, appointment, link.recipient) or "Guest"
    return _credential(rooms, settings, appointment, f"guest-{link.recipient}", display, "guest")
