"""FHIR errors: every refusal under /fhir/r4 is an OperationOutcome with its HTTP status."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.errors import ApiError

log = logging.getLogger("clinicdesk.server.fhir")

FHIR_JSON = "application/fhir+json"

#: HTTP status -> OperationOutcome issue code (FHIR's IssueType value set).
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    500: "exception",
}


class FhirError(Exception):
    """An expected failure of a FHIR request: `status` with an OperationOutcome."""

    def __init__(
        self, status: int, message: str, expression: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.expression = expression
        self.headers = headers or {}


def operation_outcome(status: int, issues: list[tuple[str, str]]) -> dict[str, Any]:
    """An OperationOutcome of (message, FHIRPath expression or "") issues."""
    code = _ISSUE_CODES.get(status, "processing")
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": code,
                "diagnostics": message[:1000],
                **({"expression": [expression[:200]]} if expression else {}),
            }
            for message, expression in issues
        ],
    }


def outcome_response(
    status: int, issues: list[tuple[str, str]], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        operation_outcome(status, issues), status_code=status, headers=headers,
        media_type=FHIR_JSON,
    )


def from_api_error(error: ApiError) -> FhirError:
    """A booking service's refusal (409 double booking, 422 a broken rule, 404) in FHIR terms."""
    expression = f"Appointment.{error.fields[0].field}" if error.fields else ""
    return FhirError(error.status, error.message, expression)


async def _fhir_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FhirError)
    return outcome_response(exc.status, [(exc.message, exc.expression)], exc.headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    issues = [(f.message, f.field) for f in exc.fields] or [(exc.message, "")]
    return outcome_response(exc.status, issues, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Where and what only: submitted values (patient data) are never echoed back.
    issues = [
        (str(e["msg"]), ".".join(str(part) for part in e["loc"])) for e in exc.errors()[:20]
    ]
    return outcome_response(400, issues)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return outcome_response(exc.status_code, [(str(exc.detail), "")], dict(exc.headers or {}))


async def _out_of_range(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("refused a value the database cannot hold: %s", type(exc).__name__)
    return outcome_response(422, [("A value in the request is out of range.", "")])


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return outcome_response(500, [("Something went wrong on the server.", "")])


def install_outcome_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FhirError, _fhir_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(Exception, _unexpected)
