"""Patients in the local store: one patient, the MRN rule, and the validated writes of a
patient's details (searching is patient_index.py's)."""

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from app.store import mutations
from app.store.errors import NotFound
from app.store.tables import PatientRow
from app.store.wire_records import patient_row_fields
from shared.drafts import PatientDraft
from shared.errors import FieldError, ValidationFailed
from shared.records import Patient
from shared.validation import duplicate_mrn_problem, validate_patient


def patient_from_row(row: PatientRow) -> Patient:
    return Patient(
        id=row.id,
        name=row.name,
        date_of_birth=row.date_of_birth,
        mrn=row.mrn,
        email=row.email,
        phone=row.phone,
        mrn_authority=row.mrn_authority,
    )


def get_patient(session: Session, patient_id: uuid.UUID) -> Patient:
    row = session.get(PatientRow, patient_id)
    if row is None:
        raise NotFound("This patient is no longer on this desktop.")
    return patient_from_row(row)


def mrn_errors(session: Session, draft: PatientDraft) -> list[FieldError]:
    """The MRN already belongs to another patient on this desktop: refused (the server checks
    again against every patient of the clinic)."""
    mrn = draft.mrn.strip()
    if not mrn:
        return []
    query = select(PatientRow).where(col(PatientRow.mrn) == mrn)
    if draft.id is not None:
        query = query.where(col(PatientRow.id) != draft.id)
    holder = session.exec(query.limit(1)).first()
    if holder is None:
        return []
    return [FieldError("patient.mrn", duplicate_mrn_problem(mrn, holder.name))]


def upsert_patient(session: Session, draft: PatientDraft) -> Patient:
    """Create the patient, or update the picked one with what was typed."""
    if draft.id is None:
        row = PatientRow(id=uuid.uuid4(), name="")
    else:
        found = session.get(PatientRow, draft.id)
        if found is None:
            raise NotFound("The patient was removed from this desktop meanwhile.")
        row = found
    row.name = draft.name.strip()
    row.date_of_birth = draft.date_of_birth
    row.mrn = draft.mrn.strip()
    row.email = draft.email.strip()
    row.phone = draft.phone.strip()
    session.add(row)
    session.flush()
    return patient_from_row(row)


def save_patient(session: Session, draft: PatientDraft, now: datetime) -> Patient:
    """Validate the details (the shared rules and the MRN) and write them with their outbox
    entry, in one transaction. Raises ValidationFailed (nothing written) when a rule is broken."""
    errors = validate_patient(draft, now.date()) + mrn_errors(session, draft)
    if errors:
        raise ValidationFailed(errors)
    before = None
    if draft.id is not None:
        found = session.get(PatientRow, draft.id)
        if found is None:
            raise NotFound("The patient was removed from this desktop meanwhile.")
        before = patient_row_fields(found)
    patient = upsert_patient(session, draft)
    row = session.get(PatientRow, patient.id)
    assert row is not None
    mutations.patient_saved(session, row, before, now)
    return patient
