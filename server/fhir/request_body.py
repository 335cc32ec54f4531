"""Reading a FHIR request body: JSON (application/fhir+json or application/json), or 400."""

import json
from typing import Any

from fastapi import Request

from server.fhir.outcome import FhirError

_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES:
        raise FhirError(415, "Send the resource as application/fhir+json.")
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FhirError(400, "The body is not valid JSON.") from None
