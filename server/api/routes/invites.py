"""Patient invites and links of an appointment: resend, copy a link, message the waiting patient.

Staff who may see the appointment (its clinician, the clinicians it delegated to, its clerks).
"""

from uuid import UUID

from fastapi import APIRouter, status

from server.api.deps import SessionDep, SettingsDep, Staff
from server.api.error_responses import error_responses
from server.errors import ApiError, invalid
from server.realtime import notify
from server.realtime.delivery import Delivery
from server.realtime.patient_protocol import WaitingMessage
from server.realtime.shared_waiting_room import keep_message
from server.schemas.patient import PatientLinkOut, PatientLinkRequest, WaitingMessageIn
from server.security.access_rules import require_visible
from server.services import audit, booking, changes, invites, patient_links
from server.services.appointment_view import public_appointment
from server.services.invite_sender import join_url
from shared.enums import AppointmentStatus
from shared.errors import FieldError
from shared.schemas import AppointmentPublic

router = APIRouter(
    prefix="/appointments/{appointment_id}",
    tags=["invites"],
    responses=error_responses(403, 409),
)


def _scheduled(row_status: str, action: str) -> None:
    if row_status != AppointmentStatus.SCHEDULED:
        raise ApiError(409, "not_scheduled", f"A {row_status} appointment has no {action}.")


@router.post(
    "/invites",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send the invites again (queued; see invite_status)",
)
def resend_invites(
    appointment_id: UUID, session: SessionDep, caller: Staff
) -> AppointmentPublic:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    _scheduled(row.status, "invite to send")
    if not invites.queue(session, row, invites.RESENT, caller.now):
        raise ApiError(
            409, "invites_off", "Email is not set up on the server: copy the patient link instead."
        )
    audit.record(session, caller, "appointment.invite", "appointment", row.id)
    changes.record(session, "appointment", row.id, [row.clinician_id], caller.now)
    session.commit()
    return public_appointment(session, row)


@router.post(
    "/patient-link",
    status_code=status.HTTP_201_CREATED,
    summary="A fresh link for the patient (emailed links stay valid)",
)
def copy_patient_link(
    appointment_id: UUID,
    session: SessionDep,
    settings: SettingsDep,
    caller: Staff,
    body: PatientLinkRequest,
) -> PatientLinkOut:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    _scheduled(row.status, "patient link")
    recipient = body.recipient
    if recipient > len(booking.participants_of(session, row.id)):
        raise invalid([FieldError("recipient", "No such participant of this appointment.")])
    _link, token = patient_links.mint(session, row.id, recipient, "copy", caller.now)
    detail = f"recipient={recipient}"
    audit.record(session, caller, "appointment.link", "appointment", row.id, detail)
    session.commit()
    return PatientLinkOut(
        url=join_url(settings, token),
        recipient=recipient,
        valid_until=patient_links.valid_until(row, settings.link_grace_minutes),
    )


@router.post(
    "/waiting-message",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Show a short message on the waiting patient's page",
)
def send_waiting_message(
    appointment_id: UUID, body: WaitingMessageIn, session: SessionDep, caller: Staff
) -> dict[str, str]:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    _scheduled(row.status, "waiting room")
    text = " ".join(body.text.split())
    if not text:
        raise invalid([FieldError("text", "Write a message.")])
    message = WaitingMessage(text=text, at=caller.now).model_dump_json()
    notify.send(session, Delivery(message, users=frozenset(), patient_of=row.id))
    if session.get_bind().dialect.name == "postgresql":
        # Every process's pages read it back on a reload (in memory, the page's process keeps it).
        keep_message(session, row.id, message)
    audit.record(session, caller, "appointment.message", "appointment", row.id)
    session.commit()
    return {"status": "sent"}
