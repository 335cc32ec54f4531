"""The audit log, for admins: filter by actor, action, record and time."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sqlmodel import col, select

from server.api.bounds import MAX_INT64
from server.api.deps import Admin, SessionDep
from server.api.error_responses import error_responses
from server.models.audit import AuditEvent
from server.schemas.audit import AuditEventPublic
from server.services.audit import record
from shared.schemas import StorableTime

router = APIRouter(prefix="/audit-events", tags=["audit"], responses=error_responses(403))


@router.get("", summary="Query the audit log (oldest first; page with after_id)")
def list_audit_events(
    session: SessionDep,
    caller: Admin,
    actor_id: UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    since: StorableTime | None = None,
    until: StorableTime | None = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditEventPublic]:
    query = select(AuditEvent).where(col(AuditEvent.id) > after_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    if until is not None:
        query = query.where(col(AuditEvent.at) < until)
    rows = list(session.exec(query.order_by(col(AuditEvent.id)).limit(limit)))
    answer = [AuditEventPublic.model_validate(row, from_attributes=True) for row in rows]
    record(session, caller, "audit.read", "audit_event", detail=f"rows={len(rows)}")
    session.commit()
    return answer
