"""Clinician -> clinician delegations: admins manage them; a clinician lists their own."""

from uuid import UUID

from fastapi import APIRouter, Response, status
from sqlmodel import select

from server.api.deps import Admin, AnyUser, SessionDep
from server.api.error_responses import error_responses
from server.errors import ApiError, invalid, not_found
from server.models.access import Delegation
from server.models.user import User
from server.schemas.access import DelegationCreate, DelegationPublic
from server.security.access_rules import delegations_seen_by
from server.services.audit import record
from shared.enums import Role
from shared.errors import FieldError

router = APIRouter(prefix="/delegations", tags=["delegations"], responses=error_responses(403))


@router.get("", summary="List delegations (a clinician sees those they are part of)")
def list_delegations(session: SessionDep, caller: AnyUser) -> list[DelegationPublic]:
    query = select(Delegation)
    seen = delegations_seen_by(caller.user)
    if seen is not None:
        query = query.where(seen)
    return [
        DelegationPublic.model_validate(row, from_attributes=True) for row in session.exec(query)
    ]


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Let a clinician see another's schedule"
)
def create_delegation(
    body: DelegationCreate, session: SessionDep, caller: Admin
) -> DelegationPublic:
    for field, user_id in (("owner_id", body.owner_id), ("delegate_id", body.delegate_id)):
        user = session.get(User, user_id)
        if user is None or user.role != Role.CLINICIAN:
            raise invalid([FieldError(field, "This user is not a clinician.")])
    if body.owner_id == body.delegate_id:
        raise invalid([FieldError("delegate_id", "A clinician cannot delegate to themselves.")])
    if session.get(Delegation, (body.owner_id, body.delegate_id)) is not None:
        raise ApiError(409, "exists", "This delegation exists already.")
    row = Delegation(owner_id=body.owner_id, delegate_id=body.delegate_id)
    session.add(row)
    record(
        session,
        caller,
        "delegation.create",
        "delegation",
        row.owner_id,
        f"delegate={row.delegate_id}",
    )
    session.commit()
    return DelegationPublic.model_validate(row, from_attributes=True)


@router.delete(
    "/{owner_id}/{delegate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a delegation",
)
def delete_delegation(
    owner_id: UUID, delegate_id: UUID, session: SessionDep, caller: Admin
) -> Response:
    row = session.get(Delegation, (owner_id, delegate_id))
    if row is None:
        raise not_found("Delegation")
    session.delete(row)
    record(session, caller, "delegation.delete", "delegation", owner_id, f"delegate={delegate_id}")
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
