"""Clerk -> clinician assignments: admins manage them; a clerk lists their own."""

from uuid import UUID

from fastapi import APIRouter, Response, status
from sqlmodel import select

from server.api.deps import Admin, AnyUser, SessionDep
from server.api.error_responses import error_responses
from server.errors import ApiError, invalid, not_found
from server.models.access import Assignment
from server.models.user import User
from server.schemas.access import AssignmentCreate, AssignmentPublic
from server.security.access_rules import assignments_seen_by
from server.services.audit import record
from shared.enums import Role
from shared.errors import FieldError

router = APIRouter(prefix="/assignments", tags=["assignments"], responses=error_responses(403))


@router.get("", summary="List assignments (a clerk sees their own)")
def list_assignments(session: SessionDep, caller: AnyUser) -> list[AssignmentPublic]:
    query = select(Assignment)
    seen = assignments_seen_by(caller.user)
    if seen is not None:
        query = query.where(seen)
    return [
        AssignmentPublic.model_validate(row, from_attributes=True) for row in session.exec(query)
    ]


def _require_role(session: SessionDep, user_id: UUID, role: Role, field: str) -> None:
    user = session.get(User, user_id)
    if user is None or user.role != role:
        raise invalid([FieldError(field, f"This user is not a {role.value}.")])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Assign a clerk to a clinician",
    responses=error_responses(409),
)
def create_assignment(
    body: AssignmentCreate, session: SessionDep, caller: Admin
) -> AssignmentPublic:
    _require_role(session, body.clerk_id, Role.CLERK, "clerk_id")
    _require_role(session, body.clinician_id, Role.CLINICIAN, "clinician_id")
    if session.get(Assignment, (body.clerk_id, body.clinician_id)) is not None:
        raise ApiError(409, "exists", "This clerk is already assigned to this clinician.")
    row = Assignment(clerk_id=body.clerk_id, clinician_id=body.clinician_id)
    session.add(row)
    record(
        session,
        caller,
        "assignment.create",
        "assignment",
        row.clinician_id,
        f"clerk={row.clerk_id}",
    )
    session.commit()
    return AssignmentPublic.model_validate(row, from_attributes=True)


@router.delete(
    "/{clerk_id}/{clinician_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an assignment",
)
def delete_assignment(
    clerk_id: UUID, clinician_id: UUID, session: SessionDep, caller: Admin
) -> Response:
    row = session.get(Assignment, (clerk_id, clinician_id))
    if row is None:
        raise not_found("Assignment")
    session.delete(row)
    record(session, caller, "assignment.delete", "assignment", clinician_id, f"clerk={clerk_id}")
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
