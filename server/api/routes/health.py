"""GET /healthz (the process is up and says how the database is) and GET /readyz (a balancer
may send requests here: 503 with the reason while the database does not answer)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from server.app_state import StateDep
from server.database import check_database

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check")
def healthz(state: StateDep) -> JSONResponse:
    try:
        check_database(state.engine)
    except SQLAlchemyError:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get(
    "/readyz",
    summary="Readiness for a load balancer",
    responses={503: {"description": "Not ready: the reason is in the body"}},
)
def readyz(state: StateDep) -> JSONResponse:
    """200 when this process can serve; 503 with a reason while it cannot (the database is
    unreachable), so a balancer sends the requests to the other processes meanwhile."""
    try:
        check_database(state.engine)
    except SQLAlchemyError:
        return JSONResponse(
            {"status": "unavailable", "reason": "the database does not answer"}, status_code=503
        )
    return JSONResponse({"status": "ready"})
