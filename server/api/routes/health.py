"""GET /healthz: the process is up and the database answers."""

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
