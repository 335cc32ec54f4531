"""GET /fhir/r4/metadata: the CapabilityStatement of what this server serves (no token needed)."""

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from server.fhir.outcome import FHIR_JSON

router = APIRouter()

_SEARCH = {
    "Appointment": [("date", "date"), ("patient", "reference"), ("practitioner", "reference"),
                    ("status", "token"), ("identifier", "token"), ("_lastUpdated", "date")],
    "Patient": [("identifier", "token"), ("name", "string"), ("_id", "token")],
    "Practitioner": [("identifier", "token"), ("name", "string"), ("_id", "token")],
}


def _resource(kind: str) -> dict[str, Any]:
    interactions = ["read", "search-type"]
    if kind == "Appointment":
        interactions += ["create", "update"]
    return {
        "type": kind,
        "versioning": "versioned-update" if kind == "Appointment" else "versioned",
        "readHistory": False,
        "updateCreate": False,
        "conditionalUpdate": False,
        "interaction": [{"code": code} for code in interactions],
        "searchParam": [{"name": name, "type": kind_} for name, kind_ in _SEARCH[kind]],
    }


def capability_statement(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-02",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "software": {"name": "Clinic Desk"},
        "implementation": {"description": "Clinic Desk FHIR R4 API", "url": base_url},
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "SMART-on-FHIR",
                }]}],
                "description": "OAuth2 client credentials at POST /fhir/r4/token; "
                               "scopes such as system/Appointment.rs.",
            },
            "resource": [_resource(kind) for kind in _SEARCH],
        }],
    }


@router.get("/metadata")
def metadata(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return Response(json.dumps(capability_statement(base)), media_type=FHIR_JSON)
