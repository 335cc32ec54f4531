"""Patients: clinicians and clerks search, read, register and correct them; reads are audited."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlmodel import col, func, or_, select

from server.api.bounds import MAX_INT64
from server.api.deps import SessionDep, Staff
from server.api.error_responses import error_responses
from server.models.patient import Patient
from server.services import patients
from server.services.audit import record_reads
from shared.like_pattern import LIKE_ESCAPE, escape_like
from shared.schemas import PatientCreate, PatientPublic, PatientUpdate

router = APIRouter(prefix="/patients", tags=["patients"], responses=error_responses(403))


@router.get("", summary="Search patients by name or MRN")
def list_patients(
    session: SessionDep,
    caller: Staff,
    q: Annotated[str, Query(max_length=100, description="Part of the name, or the MRN")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
) -> list[PatientPublic]:
    query = select(Patient).order_by(col(Patient.name), col(Patient.id))
    text = q.strip()
    if text:
        # Typed % and _ are letters here, not wildcards (q=% must not list everyone).
        pattern = f"%{escape_like(text.lower())}%"
        query = query.where(
            or_(
                func.lower(col(Patient.name)).like(pattern, escape=LIKE_ESCAPE),
                col(Patient.mrn) == text,
            )
        )
    rows = list(session.exec(query.offset(offset).limit(limit)))
    record_reads(session, caller, "patient", (row.id for row in rows))
    session.commit()
    return [PatientPublic.model_validate(row) for row in rows]


@router.get("/{patient_id}", summary="One patient")
def get_patient(patient_id: UUID, session: SessionDep, caller: Staff) -> PatientPublic:
    row = patients.get(session, patient_id)
    record_reads(session, caller, "patient", [row.id])
    session.commit()
    return PatientPublic.model_validate(row)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a patient",
    responses=error_responses(409),
)
def create_patient(body: PatientCreate, session: SessionDep, caller: Staff) -> PatientPublic:
    row = patients.create(session, caller, body)
    session.commit()
    return PatientPublic.model_validate(row)


@router.patch(
    "/{patient_id}",
    summary="Correct a patient's details",
    responses=error_responses(409),
)
def update_patient(
    patient_id: UUID, body: PatientUpdate, session: SessionDep, caller: Staff
) -> PatientPublic:
    row = patients.get(session, patient_id)
    changes = body.model_dump(exclude_unset=True, exclude={"base_version"})
    patients.update(session, caller, row, changes, body.base_version)
    session.commit()
    return PatientPublic.model_validate(row)
