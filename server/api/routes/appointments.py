"""Appointments: booked, changed and cancelled by clerks (for their clinicians) and clinicians."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlmodel import col, select

from server.api.bounds import MAX_INT64
from server.api.deps import SessionDep, Staff
from server.api.error_responses import error_responses
from server.models.appointment import Appointment
from server.security.access_rules import require_visible, visible_clinicians
from server.services import booking
from server.services.appointment_view import public_appointment, public_appointments
from server.services.audit import record_reads
from shared.schemas import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentPublic,
    AppointmentUpdate,
    StorableTime,
)

router = APIRouter(prefix="/appointments", tags=["appointments"], responses=error_responses(403))


@router.get("", summary="Appointments of the schedules you may see, by start")
def list_appointments(
    session: SessionDep,
    caller: Staff,
    clinician_id: UUID | None = None,
    start_from: Annotated[StorableTime | None, Query()] = None,
    start_before: Annotated[StorableTime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
) -> list[AppointmentPublic]:
    if clinician_id is not None:
        require_visible(session, caller.user, clinician_id)
        visible = {clinician_id}
    else:
        visible = visible_clinicians(session, caller.user)
    query = select(Appointment).where(col(Appointment.clinician_id).in_(visible))
    if start_from is not None:
        query = query.where(col(Appointment.start) >= start_from)
    if start_before is not None:
        query = query.where(col(Appointment.start) < start_before)
    rows = list(
        session.exec(
            query.order_by(col(Appointment.start), col(Appointment.id)).offset(offset).limit(limit)
        )
    )
    answer = public_appointments(session, rows)
    record_reads(session, caller, "appointment", (row.id for row in rows))
    session.commit()
    return answer


@router.get("/{appointment_id}", summary="One appointment")
def get_appointment(appointment_id: UUID, session: SessionDep, caller: Staff) -> AppointmentPublic:
    row = booking.get(session, appointment_id)
    require_visible(session, caller.user, row.clinician_id)
    answer = public_appointment(session, row)
    record_reads(session, caller, "appointment", [row.id])
    session.commit()
    return answer


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Book an appointment",
    responses=error_responses(409),
)
def create_appointment(
    body: AppointmentCreate, session: SessionDep, caller: Staff
) -> AppointmentPublic:
    row = booking.create(session, caller, body)
    session.commit()
    return public_appointment(session, row)


@router.patch(
    "/{appointment_id}", summary="Change an appointment", responses=error_responses(409)
)
def update_appointment(
    appointment_id: UUID, body: AppointmentUpdate, session: SessionDep, caller: Staff
) -> AppointmentPublic:
    row = booking.get(session, appointment_id)
    booking.update(session, caller, row, body)
    session.commit()
    return public_appointment(session, row)


@router.post(
    "/{appointment_id}/cancel",
    summary="Cancel an appointment",
    responses=error_responses(409),
)
def cancel_appointment(
    appointment_id: UUID, body: AppointmentCancel, session: SessionDep, caller: Staff
) -> AppointmentPublic:
    row = booking.get(session, appointment_id)
    booking.cancel(session, caller, row, body.reason, body.base_version)
    session.commit()
    return public_appointment(session, row)
