"""The hospital systems that call the FHIR API: OAuth2 client credentials and their scopes."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel import Field

from server.models.base import ServerTable
from server.models.types import UTCDateTime


class SystemClient(ServerTable, table=True):
    """One client an admin created (`clinic-desk-server add-client`); the secret only hashed."""

    __tablename__ = "system_client"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    #: sha256 of a 256-bit random secret (server/security/tokens.py hash_secret).
    secret_hash: str = Field(max_length=64)
    #: Space-separated SMART scopes it may be granted, e.g. "system/Appointment.rs".
    scopes: str = Field(max_length=1000)
    #: The inactive account it acts as: the actor of its bookings and audit events.
    user_id: UUID = Field(foreign_key="user_account.id")
    is_active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
