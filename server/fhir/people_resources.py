"""Patient and Practitioner resources: the people an appointment names."""

from typing import Any

from server.fhir.times import instant
from server.models.patient import Patient
from server.models.user import User

MRN_SYSTEM = "urn:clinic-desk:mrn"
USERNAME_SYSTEM = "urn:clinic-desk:username"


def _name(text: str) -> dict[str, Any]:
    parts = text.split()
    name: dict[str, Any] = {"text": text}
    if len(parts) > 1:
        name["family"] = parts[-1]
        name["given"] = parts[:-1]
    elif parts:
        name["family"] = parts[0]
    return name


def patient_resource(row: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(row.id),
        "meta": {"versionId": str(row.version), "lastUpdated": instant(row.updated_at)},
        "name": [_name(row.name)],
    }
    if row.mrn:
        identifier: dict[str, Any] = {"use": "usual", "system": MRN_SYSTEM, "value": row.mrn}
        if row.mrn_authority:
            # Who assigned it, as the hospital system named it (HL7 v2 PID-3.4).
            identifier["assigner"] = {"display": row.mrn_authority}
        resource["identifier"] = [identifier]
    telecom = []
    if row.phone:
        telecom.append({"system": "phone", "value": row.phone})
    if row.email:
        telecom.append({"system": "email", "value": row.email})
    if telecom:
        resource["telecom"] = telecom
    if row.date_of_birth is not None:
        resource["birthDate"] = row.date_of_birth.isoformat()
    return resource


def practitioner_resource(row: User) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": str(row.id),
        "active": row.is_active,
        "identifier": [{"system": USERNAME_SYSTEM, "value": row.username}],
        "name": [_name(row.full_name)],
    }
