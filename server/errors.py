"""One JSON shape for every error: {"code", "message", "fields"}; no stack trace or SQL leaks."""

import logging
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import FieldError

log = logging.getLogger("clinicdesk.server")

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


@dataclass
class ApiError(Exception):
    """An expected failure of a request, answered as JSON with `status`."""

    status: int
    code: str
    message: str
    fields: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found.")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def unauthenticated(message: str = "Sign in first.") -> ApiError:
    return ApiError(401, "unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


def stale_version(what: str, current: int) -> ApiError:
    return ApiError(
        409, "stale_version", f"The {what} was changed by someone else (now version {current})."
    )


def invalid(errors: list[FieldError]) -> ApiError:
    return ApiError(422, "invalid", "; ".join(e.message for e in errors), errors)


def body(code: str, message: str, fields: list[FieldError] | None = None) -> dict[str, object]:
    return {
        "code": code,
        "message": message,
        "fields": [{"field": f.field, "message": f.message} for f in fields or []],
    }


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        body(exc.code, exc.message, exc.fields), status_code=exc.status, headers=exc.headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: the submitted values (patient data) are never echoed back.
    fields = [FieldError(_location(tuple(e["loc"])), str(e["msg"])) for e in exc.errors()]
    return JSONResponse(body("invalid", "The request is not valid.", fields), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODES.get(exc.status_code, "error")
    return JSONResponse(
        body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _out_of_range(_request: Request, exc: Exception) -> JSONResponse:
    # A value the checks let through but the database cannot hold (a huge number, say).
    log.warning("refused a value the database cannot hold: %s", type(exc).__name__)
    return JSONResponse(body("invalid", "A value in the request is out of range."), status_code=422)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(body("internal", "Something went wrong on the server."), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(Exception, _unexpected)
