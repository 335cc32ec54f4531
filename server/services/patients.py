"""Registering and correcting patients (REST and sync alike): audit and change log included."""

from typing import Any
from uuid import UUID

from sqlmodel import Session, col, select

from server.database import lock_mrn
from server.errors import ApiError, not_found
from server.models.patient import Patient
from server.services import audit, changes, versions
from server.services.caller import Caller
from shared.errors import FieldError
from shared.schemas import PatientCreate
from shared.validation import duplicate_mrn_problem

#: Fields that may be set to null; for the others null means "leave unchanged".
_NULLABLE = frozenset({"date_of_birth"})


def check_mrn(session: Session, mrn: str, patient_id: UUID | None) -> None:
    """Refuse an MRN another patient holds (409 duplicate_mrn). One assigning authority per
    clinic: the HL7 interface keeps only its MRNs (settings.hl7_mrn_authority). Two writers of
    one MRN at once are serialized by a lock, so the second sees the first's patient."""
    mrn = mrn.strip()
    if not mrn:
        return
    lock_mrn(session, mrn)
    query = select(Patient).where(col(Patient.mrn) == mrn)
    if patient_id is not None:
        query = query.where(col(Patient.id) != patient_id)
    holder = session.exec(query.limit(1)).first()
    if holder is not None:
        message = duplicate_mrn_problem(mrn, holder.name)
        raise ApiError(409, "duplicate_mrn", message, [FieldError("mrn", message)])


def create(
    session: Session, caller: Caller, body: PatientCreate, patient_id: UUID | None = None,
    mrn_authority: str = "",
) -> Patient:
    """Register a patient; `mrn_authority` only from the hospital system's messages."""
    if patient_id is not None and session.get(Patient, patient_id) is not None:
        raise ApiError(409, "exists", "A patient with this id exists already.")
    check_mrn(session, body.mrn, patient_id)
    extra: dict[str, Any] = {"created_at": caller.now, "updated_at": caller.now,
                             "mrn_authority": mrn_authority}
    if patient_id is not None:
        extra["id"] = patient_id
    row = Patient.model_validate(body, update=extra)
    session.add(row)
    audit.record(session, caller, "patient.create", "patient", row.id)
    changes.record(session, "patient", row.id, [None], caller.now)
    session.flush()
    return row


def get(session: Session, patient_id: UUID) -> Patient:
    row = session.get(Patient, patient_id)
    if row is None:
        raise not_found("Patient")
    return row


def update(
    session: Session, caller: Caller, row: Patient, fields: dict[str, Any], base_version: int
) -> Patient:
    """Apply `fields` (only those given) if the client saw the current version."""
    fields = {k: v for k, v in fields.items() if v is not None or k in _NULLABLE}
    versions.check_base(session, "patient", row.id, row.version, base_version, fields)
    if fields.get("mrn") is not None and fields["mrn"] != row.mrn:
        check_mrn(session, fields["mrn"], row.id)
        # A person typed this MRN: the hospital system no longer vouches for it.
        row.mrn_authority = ""
    row.sqlmodel_update(fields)
    row.version += 1
    versions.record_fields(session, "patient", row.id, row.version, fields)
    row.updated_at = caller.now
    session.add(row)
    audit.record(session, caller, "patient.update", "patient", row.id, f"fields={','.join(fields)}")
    changes.record(session, "patient", row.id, [None], caller.now)
    session.flush()
    return row
