"""From a local write to its outbox entry: which intent, which fields, in the same transaction.

Only the fields the user changed are sent (the server's field-level merge compares them). A
record the server does not have yet is sent whole, as a create; a record with nothing queued
is compared with the server's newest copy, so a retry after a rejection is judged afresh.
"""

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from app.store import outbox
from app.store.tables import AppointmentRow, PatientListRow, PatientRow, TaskRow
from app.store.wire_records import (
    Fields,
    appointment_fields,
    appointment_row_fields,
    changed,
    patient_fields,
    patient_list_fields,
    patient_list_row_fields,
    patient_row_fields,
    task_fields,
    task_row_fields,
)
from shared.enums import AppointmentStatus, SyncState
from shared.sync_protocol import Intent


def patient_saved(session: Session, row: PatientRow, before: Fields | None, now: datetime) -> None:
    _saved(session, "patient", row, patient_row_fields(row), before, patient_fields, now)


def appointment_saved(
    session: Session, row: AppointmentRow, before: Fields | None, now: datetime
) -> None:
    after = appointment_row_fields(session, row)
    _saved(session, "appointment", row, after, before, appointment_fields, now)


def task_saved(session: Session, row: TaskRow, before: Fields | None, now: datetime) -> None:
    _saved(session, "task", row, task_row_fields(row), before, task_fields, now)


def patient_list_saved(
    session: Session, row: PatientListRow, before: Fields | None, now: datetime
) -> None:
    after = patient_list_row_fields(session, row)
    _saved(session, "patient_list", row, after, before, patient_list_fields, now)


#: entity type -> (the intent that creates it, the intent that changes it, extra create fields)
_INTENTS: dict[str, tuple[Intent, Intent, Fields]] = {
    "patient": (Intent.PATIENT_UPSERT, Intent.PATIENT_UPSERT, {}),
    "appointment": (Intent.APPOINTMENT_CREATE, Intent.APPOINTMENT_UPDATE, {"external_ids": {}}),
    "task": (Intent.TASK_UPSERT, Intent.TASK_UPSERT, {}),
    "patient_list": (Intent.PATIENT_LIST_UPSERT, Intent.PATIENT_LIST_UPSERT, {}),
}


def _saved(
    session: Session,
    entity_type: str,
    row: AppointmentRow | PatientRow | TaskRow | PatientListRow,
    after: Fields,
    before: Fields | None,
    normal_form: Callable[[Fields], Fields],
    now: datetime,
) -> None:
    if session.info.get("local_only"):
        return
    create, update, extra = _INTENTS[entity_type]
    if not outbox.on_server(session, entity_type, row.id):
        outbox.enqueue(session, create, entity_type, row.id, after | extra, now)
        return
    server_copy = outbox.rebase(session, entity_type, row.id)
    reference = normal_form(server_copy) if server_copy is not None else before or {}
    diff = changed(reference, after)
    if diff:
        outbox.enqueue(session, update, entity_type, row.id, diff, now)
    elif server_copy is not None:
        _settled(session, entity_type, row)


def status_changed(
    session: Session, row: AppointmentRow, status: AppointmentStatus, reason: str, now: datetime
) -> None:
    if session.info.get("local_only"):
        return
    if not outbox.on_server(session, "appointment", row.id):
        # A booking the server refused, now cancelled or marked here: nothing to tell it.
        record = outbox.sync_record(session, "appointment", row.id)
        record.state, record.message = SyncState.SYNCED.value, ""
        session.add(record)
        return
    outbox.rebase(session, "appointment", row.id)
    if status is AppointmentStatus.CANCELLED:
        payload: Fields = {"reason": reason or "Cancelled"}
        outbox.enqueue(session, Intent.APPOINTMENT_CANCEL, "appointment", row.id, payload, now)
    else:
        payload = {"status": status.value}
        outbox.enqueue(session, Intent.APPOINTMENT_STATUS, "appointment", row.id, payload, now)


def _settled(
    session: Session, entity_type: str, row: AppointmentRow | PatientRow | TaskRow | PatientListRow
) -> None:
    """Saved with the server's values: nothing to send, and nothing to be rejected any more."""
    record = outbox.sync_record(session, entity_type, row.id)
    record.state, record.message = SyncState.SYNCED.value, ""
    session.add(record)
