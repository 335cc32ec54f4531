"""Schema of an audit event as admins read it."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    actor_id: UUID | None
    action: str
    entity_type: str
    entity_id: str
    address: str
    detail: str
