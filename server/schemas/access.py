"""Schemas of clerk assignments and clinician delegations."""

from uuid import UUID

from pydantic import BaseModel


class AssignmentCreate(BaseModel):
    clerk_id: UUID
    clinician_id: UUID


class AssignmentPublic(AssignmentCreate):
    pass


class DelegationCreate(BaseModel):
    """The delegate (a clinician) will see the owner's schedule."""

    owner_id: UUID
    delegate_id: UUID


class DelegationPublic(DelegationCreate):
    pass
