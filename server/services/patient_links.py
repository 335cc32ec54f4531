"""Patient links: minted for an invite or for staff to copy, resolved when the patient joins.

A link is valid from its creation until the appointment's end plus the grace period (read from
the appointment each time, so a reschedule moves it) and is revoked when the appointment is
cancelled. Resolving a token tells apart unknown, expired and cancelled links; an unknown token
learns nothing about any appointment.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from sqlmodel import Session, col, select, update

from server.models.appointment import Appointment
from server.models.invite import PatientLink
from server.realtime import notify
from server.realtime.delivery import Delivery
from server.realtime.patient_protocol import CancelledEvent
from server.security.link_tokens import MAX_TOKEN_LENGTH, new_token, token_hash
from shared.enums import AppointmentStatus


class LinkState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Resolved:
    state: LinkState
    link: PatientLink | None = None
    appointment: Appointment | None = None


def mint(
    session: Session, appointment_id: UUID, recipient: int, origin: str, now: datetime
) -> tuple[PatientLink, str]:
    """A new link for `recipient` of the appointment, and its token (shown once, never stored)."""
    token = new_token()
    link = PatientLink(
        appointment_id=appointment_id,
        recipient=recipient,
        token_hash=token_hash(token),
        origin=origin,
        created_at=now,
    )
    session.add(link)
    session.flush()
    return link, token


def rotate(session: Session, link: PatientLink) -> str:
    """A fresh token for `link` (an invite's retry: the unsent token is never kept)."""
    token = new_token()
    link.token_hash = token_hash(token)
    session.add(link)
    session.flush()
    return token


def valid_until(appointment: Appointment, grace_minutes: int) -> datetime:
    end = appointment.start + timedelta(minutes=appointment.duration_minutes)
    return end + timedelta(minutes=grace_minutes)


def resolve(session: Session, token: str, now: datetime, grace_minutes: int) -> Resolved:
    """What the token opens, if anything."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return Resolved(LinkState.UNKNOWN)
    link = session.exec(
        select(PatientLink).where(PatientLink.token_hash == token_hash(token))
    ).first()
    if link is None:
        return Resolved(LinkState.UNKNOWN)
    appointment = session.get(Appointment, link.appointment_id)
    if appointment is None:
        return Resolved(LinkState.UNKNOWN)
    if link.revoked_at is not None or appointment.status == AppointmentStatus.CANCELLED:
        return Resolved(LinkState.CANCELLED, link, appointment)
    if now >= valid_until(appointment, grace_minutes) or appointment.status in (
        AppointmentStatus.NO_SHOW,
    ):
        return Resolved(LinkState.EXPIRED, link, appointment)
    return Resolved(LinkState.VALID, link, appointment)


def revoke_all(session: Session, appointment_id: UUID, now: datetime) -> None:
    """Every link of the appointment stops working (a cancellation); open pages are told."""
    event = CancelledEvent(message="This appointment has been cancelled.")
    notify.send(
        session, Delivery(event.model_dump_json(), users=frozenset(), patient_of=appointment_id)
    )
    session.execute(
        update(PatientLink)
        .where(col(PatientLink.appointment_id) == appointment_id)
        .where(col(PatientLink.revoked_at).is_(None))
        .values(revoked_at=now)
    )
