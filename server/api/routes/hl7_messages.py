"""The HL7 message log, for admins: search what the hospital's system sent, replay a message.

Raw messages hold patient details: only admins read them, and every read is audited.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime
from sqlmodel import col, select

from server.api.bounds import MAX_INT64
from server.api.deps import Admin, SessionDep
from server.api.error_responses import error_responses
from server.app_state import state_of
from server.errors import not_found
from server.integration import hl7_read, interface_account
from server.integration.hl7_inbox import inbox_of
from server.models.hl7_message import Hl7Message
from server.schemas.hl7 import Hl7MessagePublic, Hl7ReplayOut
from server.services.audit import record

router = APIRouter(prefix="/hl7/messages", tags=["hl7"], responses=error_responses(403))


@router.get("", summary="Search the HL7 message log (oldest first; page with after_id)")
def list_hl7_messages(
    session: SessionDep,
    caller: Admin,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    control_id: Annotated[str | None, Query(max_length=200)] = None,
    ack_code: Annotated[str | None, Query(pattern="^A[AER]$")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Hl7MessagePublic]:
    query = select(Hl7Message).where(col(Hl7Message.id) > after_id)
    if subject is not None:
        query = query.where(Hl7Message.subject == subject)
    if control_id is not None:
        query = query.where(Hl7Message.control_id == control_id)
    if ack_code is not None:
        query = query.where(Hl7Message.ack_code == ack_code)
    if since is not None:
        query = query.where(col(Hl7Message.received_at) >= since)
    if until is not None:
        query = query.where(col(Hl7Message.received_at) < until)
    rows = list(session.exec(query.order_by(col(Hl7Message.id)).limit(limit)))
    answer = [Hl7MessagePublic.model_validate(row, from_attributes=True) for row in rows]
    ids = ",".join(str(row.id) for row in rows)
    record(session, caller, "hl7.read", "hl7_message", detail=f"ids={ids}")
    session.commit()
    return answer


@router.post("/{message_id}/replay", summary="Apply a logged message again (e.g. once refused)")
def replay_hl7_message(
    message_id: Annotated[int, Path(ge=1, le=MAX_INT64)],
    request: Request,
    session: SessionDep,
    caller: Admin,
) -> Hl7ReplayOut:
    row = session.get(Hl7Message, message_id)
    if row is None:
        raise not_found("HL7 message")
    raw = row.raw
    record(session, caller, "hl7.replay", "hl7_message", str(message_id))
    session.commit()
    interface_id = interface_account.ensure(state_of(request.app).engine, caller.now)
    inbox = inbox_of(request.app, interface_id)
    ack = inbox.handle(raw.encode(), caller.address, caller.now).decode()
    return Hl7ReplayOut(ack_code=hl7_read.value(hl7_read.parse(ack), "MSA.F1"), ack=ack)
