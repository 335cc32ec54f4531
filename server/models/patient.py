"""The patient table."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime
from shared.schemas import PatientBase


class Patient(PatientBase, ServerTable, table=True):
    __tablename__ = "patient"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str = Field(max_length=200, index=True)
    mrn: str = Field(default="", max_length=64, index=True)
    #: Who assigned the MRN (set by the HL7 import; see PatientPublic).
    mrn_authority: str = Field(default="", max_length=64)
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
