"""The Appointment resource: a stored appointment as FHIR, and a FHIR body as booking values."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from pydantic import ValidationError

from server.fhir.outcome import FhirError
from server.fhir.times import instant
from server.models.appointment import Appointment
from shared.enums import AppointmentKind, AppointmentStatus
from shared.validation import MAX_DURATION_MINUTES, time_problem

KIND_SYSTEM = "urn:clinic-desk:appointment-kind"

#: Stored status <-> FHIR AppointmentStatus.
TO_FHIR_STATUS = {
    AppointmentStatus.SCHEDULED: "booked",
    AppointmentStatus.TAKEN: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
}
FROM_FHIR_STATUS = {value: key for key, value in TO_FHIR_STATUS.items()}


def etag(version: int) -> str:
    return f'W/"{version}"'


def appointment_resource(
    row: Appointment, patient_name: str, clinician_name: str, external_ids: dict[str, str]
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(row.id),
        "meta": {"versionId": str(row.version), "lastUpdated": instant(row.updated_at)},
        "status": TO_FHIR_STATUS[AppointmentStatus(row.status)],
        "appointmentType": {
            "coding": [{"system": KIND_SYSTEM, "code": str(row.kind)}],
            "text": AppointmentKind(row.kind).label,
        },
        "start": instant(row.start),
        "end": instant(row.start + timedelta(minutes=row.duration_minutes)),
        "minutesDuration": row.duration_minutes,
        "created": instant(row.created_at),
        "participant": [
            {
                "actor": {"reference": f"Patient/{row.patient_id}", "display": patient_name},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {
                    "reference": f"Practitioner/{row.clinician_id}", "display": clinician_name,
                },
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if external_ids:
        resource["identifier"] = [
            {"system": system, "value": value} for system, value in sorted(external_ids.items())
        ]
    if row.notes:
        resource["comment"] = row.notes
    if row.cancel_reason:
        resource["cancelationReason"] = {"text": row.cancel_reason}
    return resource


@dataclass(frozen=True, slots=True)
class AppointmentValues:
    """What a client's Appointment asks for, in Clinic Desk's terms."""

    status: AppointmentStatus
    patient_id: UUID
    clinician_id: UUID
    start: datetime
    duration_minutes: int
    kind: AppointmentKind
    notes: str
    cancel_reason: str
    external_ids: dict[str, str]
    resource_id: str | None


def _validated(body: Any) -> FhirAppointment:
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise FhirError(400, "The body must be an Appointment resource (resourceType).")
    try:
        return FhirAppointment.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FhirError(400, f"Not a valid R4 Appointment: {where}: {first['msg']}",
                        f"Appointment.{where}") from None


def _reference(resource: FhirAppointment, kind: str) -> UUID:
    found = []
    for participant in resource.participant or []:
        reference = participant.actor.reference if participant.actor is not None else None
        if reference and reference.startswith(f"{kind}/"):
            found.append(reference.removeprefix(f"{kind}/"))
    if len(found) != 1:
        raise FhirError(422, f"Name exactly one {kind} participant ({kind}/<id>).",
                        "Appointment.participant")
    try:
        return UUID(found[0])
    except ValueError:
        raise FhirError(422, f"No {kind} has the id {found[0][:40]!r}.",
                        "Appointment.participant") from None


def _kind(resource: FhirAppointment) -> AppointmentKind:
    codings = resource.appointmentType.coding if resource.appointmentType is not None else None
    for coding in codings or []:
        if coding.system == KIND_SYSTEM and coding.code:
            try:
                return AppointmentKind(coding.code)
            except ValueError:
                break
    if codings:
        raise FhirError(422, f"appointmentType: use {KIND_SYSTEM} with video, phone or group.",
                        "Appointment.appointmentType")
    return AppointmentKind.VIDEO


def _duration(resource: FhirAppointment, start: datetime) -> int:
    if resource.end is not None:
        minutes = int((resource.end - start) / timedelta(minutes=1))
        where = "Appointment.end"
    elif resource.minutesDuration is not None:
        minutes = int(resource.minutesDuration)
        where = "Appointment.minutesDuration"
    else:
        raise FhirError(422, "Give the end (or minutesDuration).", "Appointment.end")
    if not 0 < minutes <= MAX_DURATION_MINUTES:
        raise FhirError(
            422, f"An appointment lasts 1 to {MAX_DURATION_MINUTES} minutes; this one {minutes}.",
            where,
        )
    return minutes


def appointment_values(body: Any) -> AppointmentValues:
    """The booking values of a client's Appointment (400 not R4, 422 not bookable)."""
    resource = _validated(body)
    status = FROM_FHIR_STATUS.get(str(resource.status))
    if status is None:
        raise FhirError(422, "status: booked, cancelled, noshow or fulfilled.",
                        "Appointment.status")
    start = resource.start
    if start is None:
        raise FhirError(422, "Give the start.", "Appointment.start")
    if start.tzinfo is None:
        raise FhirError(422, "The start needs a time zone.", "Appointment.start")
    problem = time_problem(start)
    if problem:
        raise FhirError(422, f"start: {problem}", "Appointment.start")
    identifiers = {}
    for identifier in resource.identifier or []:
        if not identifier.system or not identifier.value:
            raise FhirError(422, "Each identifier needs a system and a value.",
                            "Appointment.identifier")
        identifiers[str(identifier.system)] = str(identifier.value)
    reason = resource.cancelationReason
    return AppointmentValues(
        status=status,
        patient_id=_reference(resource, "Patient"),
        clinician_id=_reference(resource, "Practitioner"),
        start=start,
        duration_minutes=_duration(resource, start),
        kind=_kind(resource),
        notes=resource.comment or "",
        cancel_reason=(reason.text or "") if reason is not None else "",
        external_ids=identifiers,
        resource_id=resource.id,
    )
