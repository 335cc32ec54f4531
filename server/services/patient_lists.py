"""The clinic's patient lists (sync alike): members checked, audit and change log included.

Every clinician and clerk of the clinic sees and edits every list, as they see every patient:
a list's change is logged with no scope.
"""

from typing import Any
from uuid import UUID

from sqlmodel import Session, col, delete, select

from server.errors import ApiError, invalid, not_found
from server.models.patient import Patient
from server.models.patient_list import PatientList, PatientListMember
from server.services import audit, changes, versions
from server.services.caller import Caller
from shared.errors import FieldError
from shared.schemas import PatientListCreate, PatientListPublic


def _check_patients(session: Session, patient_ids: list[UUID]) -> None:
    if not patient_ids:
        return
    known = set(session.exec(select(Patient.id).where(col(Patient.id).in_(patient_ids))).all())
    if len(known) != len(set(patient_ids)):
        raise invalid([FieldError("patient_ids", "A patient on this list does not exist.")])


def _set_members(session: Session, list_id: UUID, patient_ids: list[UUID]) -> None:
    session.execute(delete(PatientListMember).where(col(PatientListMember.list_id) == list_id))
    for position, patient_id in enumerate(patient_ids):
        session.add(PatientListMember(list_id=list_id, position=position, patient_id=patient_id))


def members(session: Session, list_id: UUID) -> list[UUID]:
    return list(session.exec(
        select(PatientListMember.patient_id)
        .where(col(PatientListMember.list_id) == list_id)
        .order_by(col(PatientListMember.position))
    ).all())


def public(session: Session, row: PatientList) -> PatientListPublic:
    return PatientListPublic(id=row.id, name=row.name, patient_ids=members(session, row.id),
                             archived=row.archived, version=row.version,
                             updated_at=row.updated_at)


def get(session: Session, list_id: UUID) -> PatientList:
    row = session.get(PatientList, list_id)
    if row is None:
        raise not_found("Patient list")
    return row


def create(
    session: Session, caller: Caller, body: PatientListCreate, list_id: UUID | None = None
) -> PatientList:
    if list_id is not None and session.get(PatientList, list_id) is not None:
        raise ApiError(409, "exists", "A patient list with this id exists already.")
    _check_patients(session, body.patient_ids)
    extra: dict[str, Any] = {"created_by_id": caller.user.id, "created_at": caller.now,
                             "updated_at": caller.now}
    if list_id is not None:
        extra["id"] = list_id
    row = PatientList.model_validate(body, update=extra)
    session.add(row)
    session.flush()
    _set_members(session, row.id, body.patient_ids)
    audit.record(session, caller, "patient_list.create", "patient_list", row.id,
                 f"patients={len(body.patient_ids)}")
    changes.record(session, "patient_list", row.id, [None], caller.now)
    session.flush()
    return row


def update(
    session: Session, caller: Caller, row: PatientList, fields: dict[str, Any], base_version: int
) -> PatientList:
    """Rename the list or set its members (only the fields given), if the client saw the
    current version or neither field changed since (the field-level merge)."""
    fields = {k: v for k, v in fields.items() if v is not None}
    versions.check_base(session, "patient_list", row.id, row.version, base_version, fields)
    if "patient_ids" in fields:
        _check_patients(session, fields["patient_ids"])
        _set_members(session, row.id, fields["patient_ids"])
    if "name" in fields:
        row.name = fields["name"]
    action = "patient_list.update"
    if "archived" in fields and fields["archived"] != row.archived:
        row.archived = fields["archived"]
        action = "patient_list.delete" if row.archived else "patient_list.restore"
    row.version += 1
    versions.record_fields(session, "patient_list", row.id, row.version, fields)
    row.updated_at = caller.now
    session.add(row)
    detail = f"fields={','.join(fields)}"
    if "patient_ids" in fields:
        detail += f" patients={len(fields['patient_ids'])}"
    audit.record(session, caller, action, "patient_list", row.id, detail)
    changes.record(session, "patient_list", row.id, [None], caller.now)
    session.flush()
    return row
