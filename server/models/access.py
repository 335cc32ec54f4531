"""Who may act for whom: clerk -> clinician assignments, clinician -> clinician delegations."""

from uuid import UUID

from sqlmodel import Field

from server.models.base import ServerTable


class Assignment(ServerTable, table=True):
    """The clerk books and edits appointments for the clinician."""

    __tablename__ = "assignment"

    clerk_id: UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    clinician_id: UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")


class Delegation(ServerTable, table=True):
    """The delegate (a clinician) sees the owner's schedule."""

    __tablename__ = "delegation"

    owner_id: UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    delegate_id: UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
