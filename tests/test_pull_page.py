"""A pull page is read with the shared Public schemas, by entity type, and applied to the store."""

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from app.store.local_store import LocalStore
from shared.enums import AppointmentKind, AppointmentStatus
from shared.schemas import AppointmentPublic, PatientPublic, TaskPublic
from shared.sync_protocol import EntityType, PullResponse
from tests.conftest import DR_NG, NOW, ST_MARYS

PATIENT = uuid4()
APPOINTMENT = uuid4()
TASK = uuid4()


def _page(*changes: dict[str, Any]) -> PullResponse:
    """A page as the server writes it (JSON), read as the desktop reads it."""
    page = {
        "protocol": 1,
        "cursor": 9,
        "has_more": False,
        "server_time": NOW.isoformat(),
        "scope": "s",
        "changes": list(changes),
    }
    return PullResponse.model_validate(page)


def _patient() -> dict[str, Any]:
    data = {"id": str(PATIENT), "name": "Ann Lee", "date_of_birth": "1970-05-01", "mrn": "M7",
            "email": "ann@example.org", "phone": "", "version": 2,
            "updated_at": NOW.isoformat()}
    return {"seq": 1, "type": "patient", "id": str(PATIENT), "deleted": False, "data": data}


def _appointment() -> dict[str, Any]:
    data = {
        "id": str(APPOINTMENT), "patient_id": str(PATIENT), "clinician_id": str(DR_NG.id),
        "location_id": str(ST_MARYS.id), "start": (NOW + timedelta(hours=1)).isoformat(),
        "duration_minutes": 20, "kind": "group", "notes": "Bring letters", "status": "scheduled",
        "cancel_reason": "", "participants": [{"name": "Bo", "email": "bo@example.org"}],
        "external_ids": {}, "version": 3, "updated_at": NOW.isoformat(),
        "invite_status": "sent", "invite_error": "",
    }
    return {"seq": 2, "type": "appointment", "id": str(APPOINTMENT), "deleted": False,
            "data": data}


def _task() -> dict[str, Any]:
    data = {"id": str(TASK), "appointment_id": str(APPOINTMENT), "assignee_id": str(DR_NG.id),
            "due_date": None, "text": "Call the GP", "done": False, "created_by_id": str(DR_NG.id),
            "version": 1, "updated_at": NOW.isoformat()}
    return {"seq": 3, "type": "task", "id": str(TASK), "deleted": False, "data": data}


def test_each_change_is_read_with_its_entity_types_public_schema() -> None:
    tombstone = {"seq": 4, "type": "task", "id": str(uuid4()), "deleted": True}
    page = _page(_patient(), _appointment(), _task(), tombstone)
    patient, appointment, task, gone = page.changes
    assert (patient.type, appointment.type, task.type) == (
        EntityType.PATIENT, EntityType.APPOINTMENT, EntityType.TASK
    )
    assert isinstance(patient.data, PatientPublic)
    assert isinstance(appointment.data, AppointmentPublic)
    assert appointment.data.kind is AppointmentKind.GROUP
    assert isinstance(task.data, TaskPublic)
    assert gone.deleted and gone.data is None


@pytest.mark.parametrize(
    "broken",
    [
        {**_task(), "data": _patient()["data"]},  # a patient's state in a task's change
        {**_appointment(), "type": "invoice"},  # no such entity type
        {**_appointment(), "data": {**_appointment()["data"], "status": "lost"}},
    ],
    ids=["data of another type", "unknown type", "unknown status"],
)
def test_a_change_that_does_not_fit_its_type_is_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _page(broken)


def test_a_page_lands_in_the_store_and_a_tombstone_removes(store: LocalStore) -> None:
    applied = store.apply_page(_page(_patient(), _appointment(), _task()), 1).result()
    assert applied.changed == {
        "patient": {PATIENT}, "appointment": {APPOINTMENT}, "task": {TASK}
    }
    appointment = store.get_appointment(APPOINTMENT).result()
    assert (appointment.patient.name, appointment.patient.mrn) == ("Ann Lee", "M7")
    assert appointment.start == NOW + timedelta(hours=1)
    assert (appointment.kind, appointment.status) == (
        AppointmentKind.GROUP, AppointmentStatus.SCHEDULED
    )
    assert [(p.name, p.email) for p in appointment.participants] == [("Bo", "bo@example.org")]
    assert (appointment.notes, appointment.version) == ("Bring letters", 3)
    [task] = store.tasks().result()
    assert (task.text, task.appointment_id) == ("Call the GP", APPOINTMENT)
    tombstone = {"seq": 5, "type": "appointment", "id": str(APPOINTMENT), "deleted": True}
    removed = store.apply_page(_page(tombstone), 1).result()
    assert removed.removed == {"appointment": {APPOINTMENT}}
