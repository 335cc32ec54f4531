"""The outbound HL7 queue, for admins: what was sent to the hospital's system, what it refused.

Messages carry patient details: only admins read them, and every read is audited. A refused
message (AE/AR) stays here; once its cause is fixed an admin may send it again.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from sqlmodel import col, select

from server.api.bounds import MAX_INT64
from server.api.deps import Admin, SessionDep
from server.api.error_responses import error_responses
from server.app_state import StateDep
from server.errors import ApiError, not_found
from server.models.hl7_outbound import QUEUED, REFUSED, Hl7Outbound
from server.schemas.hl7 import Hl7OutboundPublic
from server.services.audit import record

router = APIRouter(prefix="/hl7/outbound", tags=["hl7"], responses=error_responses(403))


@router.get("", summary="The outbound HL7 queue (oldest first; page with after_id)")
def list_hl7_outbound(
    session: SessionDep,
    caller: Admin,
    state: Literal["queued", "sent", "refused"] | None = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Hl7OutboundPublic]:
    query = select(Hl7Outbound).where(col(Hl7Outbound.id) > after_id)
    if state is not None:
        query = query.where(Hl7Outbound.state == state)
    rows = list(session.exec(query.order_by(col(Hl7Outbound.id)).limit(limit)))
    answer = [Hl7OutboundPublic.model_validate(row, from_attributes=True) for row in rows]
    ids = ",".join(str(row.id) for row in rows)
    record(session, caller, "hl7.outbound_read", "hl7_outbound", detail=f"ids={ids}")
    session.commit()
    return answer


@router.post("/{message_id}/resend", summary="Send a refused message again (its cause fixed)",
             responses=error_responses(404, 409))
def resend_hl7_outbound(
    message_id: Annotated[int, Path(ge=1, le=MAX_INT64)],
    session: SessionDep,
    caller: Admin,
    app_state: StateDep,
) -> Hl7OutboundPublic:
    row = session.get(Hl7Outbound, message_id)
    if row is None:
        raise not_found("Outbound HL7 message")
    if row.state != REFUSED:
        raise ApiError(409, "not_refused", f"This message is {row.state}: only a refused one "
                       "is sent again.")
    row.state, row.next_attempt_at, row.attempts = QUEUED, caller.now, 0
    session.add(row)
    record(session, caller, "hl7.outbound_resend", "hl7_outbound", str(message_id))
    session.commit()
    if app_state.hl7_outbound is not None:
        app_state.hl7_outbound.wake()
    return Hl7OutboundPublic.model_validate(row, from_attributes=True)
