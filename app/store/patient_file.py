"""One patient's file for the Patients view: details, appointments and the tasks about them."""

from uuid import UUID

from sqlmodel import Session

from app.store.appointments import appointments_of_patient
from app.store.patients import get_patient
from app.store.tasks import list_tasks
from shared.records import PatientFile


def patient_file(session: Session, patient_id: UUID) -> PatientFile:
    patient = get_patient(session, patient_id)
    appointments = appointments_of_patient(session, patient_id)
    ids = {appointment.id for appointment in appointments}
    tasks = list_tasks(session, appointment_ids=ids) if ids else []
    return PatientFile(patient, tuple(appointments), tuple(tasks))
