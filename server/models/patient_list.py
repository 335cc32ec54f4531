"""The clinic's named patient lists and their members (in the list's order)."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime
from shared.schemas import PatientListBase


class PatientList(PatientListBase, ServerTable, table=True):
    __tablename__ = "patient_list"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    created_by_id: UUID = Field(foreign_key="user_account.id")
    #: A deleted list: kept for the audit trail and its members' history, shown nowhere.
    archived: bool = False
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class PatientListMember(ServerTable, table=True):
    __tablename__ = "patient_list_member"

    list_id: UUID = Field(foreign_key="patient_list.id", primary_key=True, ondelete="CASCADE")
    position: int = Field(primary_key=True)
    patient_id: UUID = Field(foreign_key="patient.id", index=True)
