"""Dialling an appointment's patient: the checks before anything is sent, the trunk line from
the settings, and what an answered call changes (the appointment turns taken)."""

import logging
from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session

from server.app_state import AppState
from server.errors import ApiError
from server.integration.hl7_outbound_sender import OutboundSender
from server.janus.client import JanusClient
from server.janus.sip_call import SipCall, SipLine
from server.models.appointment import Appointment
from server.models.patient import Patient
from server.models.user import User
from server.realtime.hub import Hub
from server.services import booking, phone_attempts
from server.services.caller import Caller
from server.services.phone_calls import PhoneCall
from server.session_effects import ServerSession
from server.settings import Settings
from shared.clock import Clock
from shared.enums import AppointmentKind, AppointmentStatus
from shared.errors import FieldError
from shared.phone_call_protocol import PhoneCallStarted
from shared.phone_numbers import NumberRefused, for_people, to_e164

log = logging.getLogger("clinicdesk.server.phone")

_DIALLABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.TAKEN)


def sip_line(settings: Settings) -> SipLine | None:
    """The trunk from the settings, or None when dialling out is off."""
    if not settings.phone_sip_proxy:
        return None
    proxy_host = settings.phone_sip_proxy.split(":", 1)[1].split(";", 1)[0]
    return SipLine(
        proxy=settings.phone_sip_proxy,
        domain=settings.phone_sip_domain or proxy_host,
        username=settings.phone_sip_username,
        secret=settings.phone_sip_secret.get_secret_value(),
        authuser=settings.phone_sip_authuser,
        caller_id=settings.phone_caller_id,
        display_name=settings.clinic_name,
    )


def number_to_dial(session: Session, appointment: Appointment, settings: Settings) -> str:
    """The patient's number in E.164, or a 409/422 saying why the appointment cannot be dialled."""
    if appointment.kind != AppointmentKind.PHONE:
        raise ApiError(409, "not_phone", "Only a phone appointment rings the patient's phone.")
    if appointment.status not in _DIALLABLE:
        raise ApiError(409, "call_closed", f"A {appointment.status} appointment has no call.")
    patient = session.get(Patient, appointment.patient_id)
    try:
        return to_e164(patient.phone if patient is not None else "", settings.phone_default_region)
    except NumberRefused as refusal:
        problem = FieldError("patient.phone", str(refusal))
        raise ApiError(422, "invalid_number", str(refusal), [problem]) from None


def _taken_by(session: Session, user_id: UUID) -> str:
    user = session.get(User, user_id)
    name = user.full_name if user is not None else "Another clinician"
    return f"{name} is already calling this patient."


def _answered(
    engine: Engine, hub: Hub, clock: Clock, call: PhoneCall, outbound: OutboundSender | None
) -> None:
    """The phone answered: the appointment turns taken and the attempt says when, together."""
    with ServerSession(engine, hub=hub, hl7_outbound=outbound) as session:
        row = session.get(Appointment, call.appointment_id)
        user = session.get(User, call.user_id)
        if row is None or user is None:
            return
        phone_attempts.answered(session, call, row.clinician_id)
        if row.status == AppointmentStatus.SCHEDULED:
            caller = Caller(user=user, address="phone-call", now=clock.now())
            booking.mark_taken(session, caller, row)
        session.commit()


def dial(
    session: Session,
    state: AppState,
    caller: Caller,
    appointment: Appointment,
    offer_sdp: str,
) -> PhoneCallStarted:
    """Starts ringing the patient's phone for the caller; the events follow on the call.

    The attempt is committed before the phone can ring, so its answer and its end always find
    it (and a refusal before that leaves none)."""
    settings, clock = state.settings, state.clock
    engine, hub, calls = state.engine, state.hub, state.phone_calls
    outbound = state.hl7_outbound  # an answer is told to the hospital's system too
    number = number_to_dial(session, appointment, settings)
    line = sip_line(settings)
    if line is None:
        raise ApiError(
            503, "phone_calls_off",
            "Dialling out is not set up on this server (no phone line). Ask your IT team.",
        )

    def answered(call: PhoneCall) -> None:
        _answered(engine, hub, clock, call, outbound)

    def ended(call: PhoneCall) -> None:
        log.info("phone call %s ended: %s", call.id, call.outcome)
        phone_attempts.ended(engine, hub, call, clock.now())

    call = PhoneCall(
        id=calls.new_id(), appointment_id=appointment.id, user_id=caller.user.id,
        number=for_people(number), started_at=caller.now,
        ring_seconds=settings.phone_ring_seconds, clock=clock, on_answered=answered,
        on_ended=ended,
    )
    holder = calls.claim(call)
    if holder is not None:
        raise ApiError(409, "call_taken", _taken_by(session, holder))
    try:
        phone_attempts.dialled(session, caller, appointment, call.id, number)
        session.commit()
    except BaseException:
        calls.release(call)
        raise
    client = JanusClient(
        settings.janus_url, settings.janus_api_secret.get_secret_value(),
        settings.janus_timeout_seconds,
    )
    call.begin(SipCall(client, line, number, offer_sdp, call.sip_event, call.sip_failed))
    return PhoneCallStarted(
        call_id=call.id, number=call.number, ring_seconds=settings.phone_ring_seconds
    )
