"""Appointments as the API shows them (AppointmentPublic), with participants and external ids."""

from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

from sqlmodel import Session, col, select

from server.models.appointment import Appointment, AppointmentExternalId, AppointmentParticipant
from shared.schemas import AppointmentPublic, ParticipantIn


def public_appointments(session: Session, rows: Sequence[Appointment]) -> list[AppointmentPublic]:
    """Each row's public form, with three queries in all (not three per row)."""
    ids = [row.id for row in rows]
    participants: dict[UUID, list[ParticipantIn]] = defaultdict(list)
    external_ids: dict[UUID, dict[str, str]] = defaultdict(dict)
    if ids:
        for participant in session.exec(
            select(AppointmentParticipant)
            .where(col(AppointmentParticipant.appointment_id).in_(ids))
            .order_by(
                col(AppointmentParticipant.appointment_id), col(AppointmentParticipant.position)
            )
        ):
            participants[participant.appointment_id].append(
                ParticipantIn(name=participant.name, email=participant.email)
            )
        for external in session.exec(
            select(AppointmentExternalId).where(col(AppointmentExternalId.appointment_id).in_(ids))
        ):
            external_ids[external.appointment_id][external.system] = external.value
    return [
        AppointmentPublic(
            id=row.id,
            patient_id=row.patient_id,
            clinician_id=row.clinician_id,
            start=row.start,
            duration_minutes=row.duration_minutes,
            kind=row.kind,
            location_id=row.location_id,
            notes=row.notes,
            status=row.status,
            cancel_reason=row.cancel_reason,
            participants=participants[row.id],
            external_ids=external_ids[row.id],
            version=row.version,
            updated_at=row.updated_at,
            invite_status=row.invite_status,
            invite_error=row.invite_error,
        )
        for row in rows
    ]


def public_appointment(session: Session, row: Appointment) -> AppointmentPublic:
    return public_appointments(session, [row])[0]
