"""What the patient's page shows about an appointment, and the sentences for unusable links."""

from datetime import timedelta

from sqlmodel import Session

from server.models.appointment import Appointment, AppointmentParticipant
from server.models.invite import PATIENT, PatientLink
from server.models.location import Location
from server.models.patient import Patient
from server.models.user import User
from server.schemas.patient import PatientAppointment
from server.services.invite_mail import when_text, zone_of
from server.services.patient_links import LinkState
from server.settings import Settings


def recipient_name(session: Session, appointment: Appointment, recipient: int) -> str:
    if recipient == PATIENT:
        patient = session.get(Patient, appointment.patient_id)
        return patient.name if patient else ""
    participant = session.get(AppointmentParticipant, (appointment.id, recipient - 1))
    return participant.name if participant else ""


def appointment_view(
    session: Session, settings: Settings, appointment: Appointment, link: PatientLink
) -> PatientAppointment:
    clinician = session.get(User, appointment.clinician_id)
    location = session.get(Location, appointment.location_id) if appointment.location_id else None
    zone_name = location.time_zone if location else "UTC"
    zone = zone_of(zone_name)
    return PatientAppointment(
        name=recipient_name(session, appointment, link.recipient),
        kind=appointment.kind,
        start=appointment.start,
        end=appointment.start + timedelta(minutes=appointment.duration_minutes),
        when=when_text(appointment.start, appointment.duration_minutes, zone),
        time_zone=zone_name,
        clinician=clinician.full_name if clinician else "",
        hospital=location.hospital_name if location else settings.clinic_name,
        address=location.address if location else "",
        clinic_phone=settings.clinic_phone,
        waiting_threshold_minutes=settings.waiting_threshold_minutes,
        heartbeat_seconds=settings.patient_heartbeat_seconds,
    )


def refusal(state: LinkState, settings: Settings) -> tuple[int, str, str]:
    """Status, code and sentence for a link that does not open the waiting room."""
    phone = f" on {settings.clinic_phone}" if settings.clinic_phone else ""
    if state == LinkState.CANCELLED:
        return (
            410,
            "appointment_cancelled",
            "This appointment has been cancelled. You do not need to join. "
            f"For a new appointment, please call the clinic{phone}.",
        )
    if state == LinkState.EXPIRED:
        return (
            410,
            "link_expired",
            f"This appointment link has expired. If you need help, please call the clinic{phone}.",
        )
    return 404, "unknown_link", "This link is not valid. Check that you copied all of it."
