"""Local rows <-> the wire's record fields, in one normal form so that diffs are exact.

A record's fields are compared as the JSON the server would send (the Create schema's fields),
so a local edit and the server's copy of the same values are equal.
"""

from typing import Any
from uuid import UUID

from sqlmodel import Session, col, select

from app.store.tables import (
    AppointmentRow,
    ParticipantRow,
    PatientListMemberRow,
    PatientListRow,
    PatientRow,
    TaskRow,
)
from shared.schemas import AppointmentCreate, PatientCreate, PatientListCreate, TaskCreate

Fields = dict[str, Any]

#: The fields of an appointment a client may create or change (AppointmentCreate's, less ids).
APPOINTMENT_FIELDS = (
    "patient_id", "clinician_id", "start", "duration_minutes", "kind", "location_id", "notes",
    "participants",
)
PATIENT_FIELDS = ("name", "date_of_birth", "mrn", "email", "phone")
TASK_FIELDS = ("appointment_id", "assignee_id", "due_date", "text", "done")
PATIENT_LIST_FIELDS = ("name", "patient_ids", "archived")


def appointment_fields(source: Fields) -> Fields:
    """The normal form of an appointment's fields, from a row's values or the server's JSON."""
    model = AppointmentCreate.model_validate({key: source.get(key) for key in APPOINTMENT_FIELDS
                                              if source.get(key) is not None})
    return model.model_dump(mode="json", include=set(APPOINTMENT_FIELDS))


def patient_fields(source: Fields) -> Fields:
    model = PatientCreate.model_validate({key: source.get(key) for key in PATIENT_FIELDS
                                          if source.get(key) is not None})
    return model.model_dump(mode="json", include=set(PATIENT_FIELDS))


def task_fields(source: Fields) -> Fields:
    model = TaskCreate.model_validate({key: source.get(key) for key in TASK_FIELDS
                                       if source.get(key) is not None})
    return model.model_dump(mode="json", include=set(TASK_FIELDS))


def task_row_fields(row: TaskRow) -> Fields:
    return task_fields({
        "appointment_id": row.appointment_id, "assignee_id": row.assignee_id,
        "due_date": row.due_date, "text": row.text, "done": row.done,
    })


def patient_list_fields(source: Fields) -> Fields:
    model = PatientListCreate.model_validate({key: source.get(key) for key in PATIENT_LIST_FIELDS
                                              if source.get(key) is not None})
    return model.model_dump(mode="json", include=set(PATIENT_LIST_FIELDS))


def list_members(session: Session, list_id: UUID) -> list[UUID]:
    query = (
        select(PatientListMemberRow.patient_id)
        .where(col(PatientListMemberRow.list_id) == list_id)
        .order_by(col(PatientListMemberRow.position))
    )
    return list(session.exec(query).all())


def patient_list_row_fields(session: Session, row: PatientListRow) -> Fields:
    return patient_list_fields({"name": row.name, "patient_ids": list_members(session, row.id),
                                "archived": row.archived})


def participants_of(session: Session, appointment_id: UUID) -> list[Fields]:
    query = (
        select(ParticipantRow)
        .where(col(ParticipantRow.appointment_id) == appointment_id)
        .order_by(col(ParticipantRow.position))
    )
    return [{"name": row.name, "email": row.email} for row in session.exec(query)]


def appointment_row_fields(session: Session, row: AppointmentRow) -> Fields:
    return appointment_fields(
        {
            "patient_id": row.patient_id,
            "clinician_id": row.clinician_id,
            "start": row.start,
            "duration_minutes": row.duration_minutes,
            "kind": row.kind,
            "location_id": row.location_id,
            "notes": row.notes,
            "participants": participants_of(session, row.id),
        }
    )


def patient_row_fields(row: PatientRow) -> Fields:
    return patient_fields(
        {
            "name": row.name,
            "date_of_birth": row.date_of_birth,
            "mrn": row.mrn,
            "email": row.email,
            "phone": row.phone,
        }
    )


def changed(before: Fields, after: Fields) -> Fields:
    """The fields of `after` whose values differ from `before`."""
    return {key: value for key, value in after.items() if before.get(key) != value}
