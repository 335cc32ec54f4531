"""The sync API the desktop uses: POST /sync/push and GET /sync/pull (see docs/sync.md)."""

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.bounds import MAX_INT64
from server.api.deps import SessionDep, Staff
from server.api.error_responses import error_responses
from server.errors import ApiError, invalid
from server.services import sync_pull, sync_push
from shared.errors import FieldError
from shared.sync_protocol import (
    MAX_PULL,
    PROTOCOL_VERSION,
    PullResponse,
    PushRequest,
    PushResponse,
)

router = APIRouter(prefix="/sync", tags=["sync"], responses=error_responses(403))


def _check_protocol(protocol: int) -> None:
    if protocol != PROTOCOL_VERSION:
        raise ApiError(
            400,
            "unsupported_protocol",
            f"This Clinic Desk speaks sync protocol {protocol}; the server speaks "
            f"{PROTOCOL_VERSION}. Update Clinic Desk: your unsent changes are kept.",
        )


def _check_numbers(body: PushRequest) -> None:
    """Refuse the whole push before anything is applied when a number cannot be stored."""
    errors = [
        FieldError(f"body.mutations.{n}.{name}", f"Must be at most {MAX_INT64}.")
        for n, mutation in enumerate(body.mutations)
        for name in ("seq", "base_version")
        if (getattr(mutation, name) or 0) > MAX_INT64
    ]
    if errors:
        raise invalid(errors)


@router.post("/push", summary="Apply client mutations, each exactly once")
def push(body: PushRequest, session: SessionDep, caller: Staff) -> PushResponse:
    _check_protocol(body.protocol)
    _check_numbers(body)
    results = sync_push.apply_push(session, caller, body.client_id, body.mutations)
    return PushResponse(protocol=PROTOCOL_VERSION, results=results)


@router.get(
    "/pull",
    summary="Changes after a cursor, for what you may see",
    responses=error_responses(400),
)
def pull(
    session: SessionDep,
    caller: Staff,
    protocol: int,
    cursor: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL)] = 500,
) -> PullResponse:
    _check_protocol(protocol)
    answer = sync_pull.pull(session, caller, cursor, limit)
    session.commit()
    return answer
