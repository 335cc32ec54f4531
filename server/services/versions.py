"""Optimistic concurrency with field-level merge.

An edit names the version it was based on. If the record moved on since, the edit still goes
through when none of the fields it changes were changed in between; otherwise it is refused
(409 stale_version) naming the fields both sides changed.
"""

from collections.abc import Iterable
from uuid import UUID

from sqlmodel import Session, col, select

from server.errors import ApiError
from server.models.sync import FieldChange


def check_base(
    session: Session,
    entity_type: str,
    entity_id: UUID,
    current: int,
    base_version: int,
    fields: Iterable[str],
) -> None:
    """Raise stale_version unless `fields` may be applied on top of `current`."""
    if base_version == current:
        return
    wanted = set(fields)
    if base_version > current:
        raise _stale(entity_type, current, f"version {base_version} does not exist yet")
    rows = list(
        session.exec(
            select(FieldChange).where(
                FieldChange.entity_type == entity_type,
                FieldChange.entity_id == entity_id,
                col(FieldChange.version) > base_version,
                col(FieldChange.version) <= current,
            )
        )
    )
    if len(rows) != current - base_version:
        # A version whose fields are not known: assume it touched everything.
        raise _stale(entity_type, current, "it changed since")
    both = sorted(wanted & {name for row in rows for name in row.fields.split(",")})
    if both:
        raise _stale(entity_type, current, f"{', '.join(both)} changed since")


def _stale(entity_type: str, current: int, why: str) -> ApiError:
    return ApiError(
        409,
        "stale_version",
        f"Someone else changed this {entity_type} ({why}; now version {current}).",
    )


def record_fields(
    session: Session, entity_type: str, entity_id: UUID, version: int, fields: Iterable[str]
) -> None:
    """Note which fields produced `version` (call after bumping the record's version)."""
    names = ",".join(sorted(set(fields)))[:500]
    session.add(
        FieldChange(entity_type=entity_type, entity_id=entity_id, version=version, fields=names)
    )
