"""Patient and Practitioner: read and search, as far as appointments need them."""

import json
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session, col, select

from server.api.deps import SessionDep
from server.fhir import access
from server.fhir.access import SystemCaller
from server.fhir.bundle import only_params, page_of, paging, searchset
from server.fhir.outcome import FHIR_JSON, FhirError
from server.fhir.people_resources import patient_resource, practitioner_resource
from server.models.patient import Patient
from server.models.user import User
from server.services.audit import record_reads
from shared.enums import Role
from shared.like_pattern import LIKE_ESCAPE, escape_like

router = APIRouter()

PatientReader = Annotated[SystemCaller, Depends(access.require("Patient", "r"))]
PatientSearcher = Annotated[SystemCaller, Depends(access.require("Patient", "s"))]
PractitionerReader = Annotated[SystemCaller, Depends(access.require("Practitioner", "r"))]
PractitionerSearcher = Annotated[SystemCaller, Depends(access.require("Practitioner", "s"))]


def _json(resource: dict[str, Any]) -> Response:
    return Response(json.dumps(resource), media_type=FHIR_JSON)


def _uuid(text: str, kind: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise FhirError(404, f"No {kind} has this id.") from None


def _search(
    request: Request,
    session: Session,
    who: SystemCaller,
    query: Any,
    columns: tuple[Any, Any, Any],
    entity: str,
    to_resource: Callable[[Any], dict[str, Any]],
) -> Response:
    """Search by `identifier` (exact), `name` (contains, any case) and `_id`, paged."""
    id_column, identifier_column, name_column = columns
    only_params(request, {"identifier", "name", "_id"})
    count, offset = paging(request)
    params = request.query_params
    for text in params.getlist("identifier"):
        query = query.where(identifier_column == text.rpartition("|")[2])
    for text in params.getlist("name"):
        query = query.where(name_column.ilike(f"%{escape_like(text)}%", escape=LIKE_ESCAPE))
    for text in params.getlist("_id"):
        query = query.where(id_column == _uuid(text, entity))
    rows, total = page_of(session, query, (name_column, id_column), count, offset)
    record_reads(session, who.caller, entity.lower(), (row.id for row in rows))
    session.commit()
    return _json(searchset(request, [to_resource(row) for row in rows], total, count, offset))


@router.get("/Patient/{patient_id}")
def read_patient(patient_id: str, session: SessionDep, who: PatientReader) -> Response:
    row = session.get(Patient, _uuid(patient_id, "Patient"))
    if row is None:
        raise FhirError(404, "No Patient has this id.")
    record_reads(session, who.caller, "patient", [row.id])
    session.commit()
    return _json(patient_resource(row))


@router.get("/Patient")
def search_patients(request: Request, session: SessionDep, who: PatientSearcher) -> Response:
    columns = (col(Patient.id), col(Patient.mrn), col(Patient.name))
    return _search(
        request, session, who, select(Patient), columns, "Patient", patient_resource
    )


def _clinicians() -> Any:
    return select(User).where(col(User.role) == Role.CLINICIAN.value)


@router.get("/Practitioner/{practitioner_id}")
def read_practitioner(
    practitioner_id: str, session: SessionDep, who: PractitionerReader
) -> Response:
    row = session.exec(
        _clinicians().where(col(User.id) == _uuid(practitioner_id, "Practitioner"))
    ).first()
    if row is None:
        raise FhirError(404, "No Practitioner has this id.")
    record_reads(session, who.caller, "practitioner", [row.id])
    session.commit()
    return _json(practitioner_resource(row))


@router.get("/Practitioner")
def search_practitioners(
    request: Request, session: SessionDep, who: PractitionerSearcher
) -> Response:
    columns = (col(User.id), col(User.username), col(User.full_name))
    return _search(
        request, session, who, _clinicians(), columns, "Practitioner", practitioner_resource
    )
