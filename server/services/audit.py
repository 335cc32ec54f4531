"""Writing audit events in the same transaction as the read or change they describe."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import insert
from sqlmodel import Session

from server.models.audit import AuditEvent
from server.services.caller import Caller


def record(
    session: Session,
    caller: Caller,
    action: str,
    entity_type: str,
    entity_id: UUID | str = "",
    detail: str = "",
) -> None:
    session.add(
        AuditEvent(
            at=caller.now,
            actor_id=caller.user.id,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id)[:64],
            address=caller.address,
            detail=detail[:2000],
        )
    )


def record_reads(
    session: Session, caller: Caller, entity_type: str, entity_ids: Iterable[UUID]
) -> None:
    """One `<type>.read` event per record shown, so each patient's reads can be listed.

    One multi-row INSERT rather than an ORM object per row: a search may show hundreds.
    """
    rows = [
        {
            "at": caller.now,
            "actor_id": caller.user.id,
            "action": f"{entity_type}.read",
            "entity_type": entity_type,
            "entity_id": str(entity_id)[:64],
            "address": caller.address,
            "detail": "",
        }
        for entity_id in entity_ids
    ]
    if rows:
        session.execute(insert(AuditEvent), rows)


def record_anonymous(
    session: Session, at: datetime, address: str, action: str, detail: str = ""
) -> None:
    """An event with no signed-in actor (e.g. a failed login)."""
    session.add(
        AuditEvent(at=at, action=action, entity_type="auth", address=address, detail=detail[:2000])
    )


def record_patient(
    session: Session, at: datetime, address: str, action: str, appointment_id: UUID, detail: str
) -> None:
    """An event of a patient's link (no account): opened, or the waiting room entered."""
    session.add(
        AuditEvent(
            at=at,
            action=action,
            entity_type="appointment",
            entity_id=str(appointment_id),
            address=address,
            detail=detail[:2000],
        )
    )
