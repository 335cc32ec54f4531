"""Appointment: read, search, create, update (ETag / If-Match) and cancel via status."""

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from server.api.deps import SessionDep
from server.errors import ApiError
from server.fhir import access
from server.fhir.access import SystemCaller
from server.fhir.appointment_resource import (
    FROM_FHIR_STATUS,
    AppointmentValues,
    appointment_resource,
    appointment_values,
    etag,
)
from server.fhir.bundle import only_params, page_of, paging, searchset
from server.fhir.outcome import FHIR_JSON, FhirError, from_api_error
from server.fhir.request_body import json_body
from server.fhir.times import date_clause
from server.models.appointment import Appointment, AppointmentExternalId
from server.models.patient import Patient
from server.models.user import User
from server.services import booking
from server.services.audit import record_reads
from shared.enums import AppointmentStatus
from shared.schemas import AppointmentCreate, AppointmentUpdate

router = APIRouter(prefix="/Appointment")

Reader = Annotated[SystemCaller, Depends(access.require("Appointment", "r"))]
Searcher = Annotated[SystemCaller, Depends(access.require("Appointment", "s"))]
Creator = Annotated[SystemCaller, Depends(access.require("Appointment", "c"))]
Updater = Annotated[SystemCaller, Depends(access.require("Appointment", "u"))]
_SEARCH_PARAMS = {"date", "patient", "practitioner", "status", "_lastUpdated", "identifier"}


def resources(session: Session, rows: Sequence[Appointment]) -> list[dict[str, Any]]:
    """Each row as FHIR, with three queries in all (names and external ids)."""
    ids = [row.id for row in rows]
    external: dict[UUID, dict[str, str]] = defaultdict(dict)
    names: dict[UUID, str] = {}
    if ids:
        for item in session.exec(
            select(AppointmentExternalId).where(col(AppointmentExternalId.appointment_id).in_(ids))
        ):
            external[item.appointment_id][item.system] = item.value
        patient_ids = {row.patient_id for row in rows}
        clinician_ids = {row.clinician_id for row in rows}
        names.update(session.exec(
            select(Patient.id, Patient.name).where(col(Patient.id).in_(patient_ids))
        ).all())
        names.update(session.exec(
            select(User.id, User.full_name).where(col(User.id).in_(clinician_ids))
        ).all())
    return [
        appointment_resource(
            row, names.get(row.patient_id, ""), names.get(row.clinician_id, ""), external[row.id]
        )
        for row in rows
    ]


def _answer(session: Session, row: Appointment, status: int = 200) -> Response:
    body = json.dumps(resources(session, [row])[0])
    headers = {
        "ETag": etag(row.version),
        "Location": f"Appointment/{row.id}/_history/{row.version}",
    }
    return Response(body, status_code=status, media_type=FHIR_JSON, headers=headers)


def _row(session: Session, appointment_id: str) -> Appointment:
    try:
        key = UUID(appointment_id)
    except ValueError:
        raise FhirError(404, "No Appointment has this id.") from None
    row = session.get(Appointment, key)
    if row is None:
        raise FhirError(404, "No Appointment has this id.")
    return row


def _reference_id(text: str, kind: str) -> UUID:
    try:
        return UUID(text.removeprefix(f"{kind}/"))
    except ValueError:
        raise FhirError(400, f"{kind.lower()}: give {kind}/<id> or the id.") from None


@router.get("/{appointment_id}")
def read(appointment_id: str, session: SessionDep, who: Reader) -> Response:
    row = _row(session, appointment_id)
    answer = _answer(session, row)
    record_reads(session, who.caller, "appointment", [row.id])
    session.commit()
    return answer


@router.get("")
def search(request: Request, session: SessionDep, who: Searcher) -> Response:
    only_params(request, _SEARCH_PARAMS)
    count, offset = paging(request)
    query = select(Appointment)
    params = request.query_params
    for text in params.getlist("date"):
        query = query.where(date_clause(col(Appointment.start), text))
    for text in params.getlist("_lastUpdated"):
        query = query.where(date_clause(col(Appointment.updated_at), text))
    for text in params.getlist("patient"):
        query = query.where(col(Appointment.patient_id) == _reference_id(text, "Patient"))
    for text in params.getlist("practitioner"):
        query = query.where(
            col(Appointment.clinician_id) == _reference_id(text, "Practitioner")
        )
    for text in params.getlist("status"):
        try:
            wanted = [FROM_FHIR_STATUS[word].value for word in text.split(",")]
        except KeyError:
            raise FhirError(400, "status: booked, cancelled, noshow or fulfilled.") from None
        query = query.where(col(Appointment.status).in_(wanted))
    for text in params.getlist("identifier"):
        system, _, value = text.rpartition("|")
        match = select(AppointmentExternalId.appointment_id).where(
            AppointmentExternalId.value == value
        )
        if system:
            match = match.where(AppointmentExternalId.system == system)
        query = query.where(col(Appointment.id).in_(match))
    order = (col(Appointment.start), col(Appointment.id))
    rows, total = page_of(session, query, order, count, offset)
    bundle = searchset(request, resources(session, rows), total, count, offset)
    record_reads(session, who.caller, "appointment", (row.id for row in rows))
    session.commit()
    return Response(json.dumps(bundle), media_type=FHIR_JSON)


@router.post("")
async def create(request: Request, session: SessionDep, who: Creator) -> Response:
    values = appointment_values(await json_body(request))
    return _book(session, who, values)


def _book(session: Session, who: SystemCaller, values: AppointmentValues) -> Response:
    if values.status is not AppointmentStatus.SCHEDULED:
        raise FhirError(422, "A new appointment is booked (status booked).", "Appointment.status")
    try:
        body = AppointmentCreate(
            patient_id=values.patient_id,
            clinician_id=values.clinician_id,
            start=values.start,
            duration_minutes=values.duration_minutes,
            kind=values.kind,
            notes=values.notes,
            external_ids=values.external_ids,
        )
        row = booking.create(session, who.caller, body)
    except ApiError as error:
        raise from_api_error(error) from None
    except ValidationError as error:
        raise _unbookable(error) from None
    session.commit()
    return _answer(session, row, 201)


def _unbookable(error: ValidationError) -> FhirError:
    """A value FHIR allows but a booking cannot hold: 422 naming the first such field."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    return FhirError(422, f"{field}: {first['msg']}.", f"Appointment.{field}")


def _version_of(if_match: str | None, row: Appointment) -> int:
    """The version the client saw: If-Match's (412 when it is not the current one)."""
    if if_match is None:
        return row.version
    text = if_match.strip().removeprefix("W/").strip('"')
    if text != str(row.version):
        raise FhirError(412, f"The Appointment is at version {row.version}, not {text[:20]}.")
    return row.version


@router.put("/{appointment_id}")
async def update(
    appointment_id: str,
    request: Request,
    session: SessionDep,
    who: Updater,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    values = appointment_values(await json_body(request))
    if values.resource_id != appointment_id:
        raise FhirError(400, "The resource's id must be the id in the URL.", "Appointment.id")
    row = _row(session, appointment_id)
    base = _version_of(if_match, row)
    try:
        _apply(session, who, row, values, base)
    except ApiError as error:
        raise from_api_error(error) from None
    except ValidationError as error:
        raise _unbookable(error) from None
    session.commit()
    return _answer(session, row)


def _apply(
    session: Session, who: SystemCaller, row: Appointment, values: AppointmentValues, base: int
) -> None:
    current = AppointmentStatus(row.status)
    if values.status is AppointmentStatus.CANCELLED and current is not values.status:
        reason = values.cancel_reason or "Cancelled by the hospital system"
        booking.cancel(session, who.caller, row, reason, base)
        return
    if values.status is not current:
        booking.set_status(session, who.caller, row, values.status, base)
        return
    wanted: dict[str, Any] = {
        "patient_id": values.patient_id,
        "clinician_id": values.clinician_id,
        "start": values.start,
        "duration_minutes": values.duration_minutes,
        "kind": values.kind,
        "notes": values.notes,
    }
    changed = {name: value for name, value in wanted.items() if getattr(row, name) != value}
    if changed:
        change = AppointmentUpdate.model_validate({**changed, "base_version": base})
        booking.update(session, who.caller, row, change)
