"""The error answers each operation gives, in the OpenAPI schema, with the one error body.

What every operation can answer follows from how it is built and is added to the schema in one
pass (`document_errors`): 413 (body limit) and 422 (validation, unknown query parameters)
everywhere, 400 where a JSON body is parsed, 401 behind sign-in (a bearer token), 404 where the
path names a record. The rest (403 behind a role, 409 conflicts, 429 limits...) is declared per
router or route with `error_responses`.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field


class FieldErrorBody(BaseModel):
    field: str = Field(description='Where: "body.start", "query.limit", "path.patient_id"...')
    message: str


class ErrorBody(BaseModel):
    """Every error answer: a stable code for programs, a sentence for people, and the fields."""

    code: str = Field(
        description='e.g. "invalid", "unauthenticated", "forbidden", "not_found", '
        '"stale_version", "rate_limited", "too_large"'
    )
    message: str
    fields: list[FieldErrorBody] = Field(
        description="The request's fields at fault (422), else empty. Values are never echoed."
    )


_DESCRIPTIONS = {
    202: "Accepted, not done yet: e.g. a participant waits for the clinician to admit them.",
    400: "The request cannot be read (JSON nested too deep) or names an unsupported protocol.",
    401: "Not signed in, or the token is invalid, expired or of an ended session.",
    403: "Signed in, but this account may not do this.",
    404: "The record (or link) does not exist, or is not visible to this account.",
    409: "A conflict: the record changed meanwhile (stale version), or the state forbids it.",
    410: "Gone: the link expired or the appointment was cancelled.",
    413: "The request body is larger than the server accepts.",
    422: "A value is invalid, out of range, or a query parameter is unknown (see `fields`).",
    423: "Locked: e.g. the clinician locked the group call to anyone new.",
    429: "Too many attempts: wait for the seconds in the Retry-After header.",
    502: "A service the server relies on (the SFU) refused the request.",
    503: "A service the server relies on (the SFU) is not set up or not answering.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the error body."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses
    }


_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def _given_by_construction(path: str, operation: dict[str, Any]) -> set[int]:
    statuses = {413, 422}
    if "requestBody" in operation:
        statuses.add(400)
    if operation.get("security"):
        statuses.add(401)
    if "{" in path:
        statuses.add(404)
    return statuses


def add_error_answers(schema: dict[str, Any]) -> dict[str, Any]:
    """Complete each operation of an OpenAPI schema with the errors it gives by construction."""
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in sorted(_given_by_construction(path, operation)):
                responses.setdefault(
                    str(status), {"description": _DESCRIPTIONS[status], "content": _ERROR_BODY}
                )
    schemas = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)  # every 422 has the error body instead
    return schema


def document_errors(app: FastAPI) -> None:
    """Make the app's OpenAPI schema list the error answers every operation gives."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return add_error_answers(generate())

    app.openapi = openapi  # type: ignore[method-assign]
