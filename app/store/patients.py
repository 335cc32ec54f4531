"""Patients in the local store: search for the picker, and upsert from a dialog's draft."""

import uuid

from sqlmodel import Session, col, or_, select

from app.domain.drafts import PatientDraft
from app.domain.like_pattern import LIKE_ESCAPE, escape_like
from app.domain.records import Patient
from app.store.errors import NotFound
from app.store.tables import PatientRow


def patient_from_row(row: PatientRow) -> Patient:
    return Patient(
        id=row.id,
        name=row.name,
        date_of_birth=row.date_of_birth,
        mrn=row.mrn,
        email=row.email,
        phone=row.phone,
    )


def search_patients(session: Session, text: str, limit: int = 50) -> list[Patient]:
    """Patients whose name contains `text` or whose MRN starts with it, by name."""
    query = select(PatientRow).order_by(col(PatientRow.name)).limit(limit)
    needle = text.strip()
    if needle:
        escaped = escape_like(needle)
        query = query.where(
            or_(
                col(PatientRow.name).ilike(f"%{escaped}%", escape=LIKE_ESCAPE),
                col(PatientRow.mrn).ilike(f"{escaped}%", escape=LIKE_ESCAPE),
            )
        )
    return [patient_from_row(row) for row in session.exec(query)]


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
