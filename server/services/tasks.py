"""Creating and changing tasks (REST and sync alike): ownership, audit and change log included."""

from typing import Any
from uuid import UUID

from sqlmodel import Session

from server.errors import ApiError, invalid, not_found
from server.models.appointment import Appointment
from server.models.task import Task
from server.models.user import User
from server.security.access_rules import require_task_party, require_visible
from server.services import audit, changes, versions
from server.services.caller import Caller
from shared.enums import Role
from shared.errors import FieldError
from shared.schemas import TaskCreate

_REQUIRED = frozenset({"assignee_id", "text", "done"})


def _check_assignee(session: Session, assignee_id: UUID) -> None:
    user = session.get(User, assignee_id)
    if user is None or not user.is_active or user.role == Role.ADMIN:
        raise invalid([FieldError("assignee_id", "Choose an active clinician or clerk.")])


def _check_appointment(session: Session, caller: Caller, appointment_id: UUID | None) -> None:
    if appointment_id is None:
        return
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise invalid([FieldError("appointment_id", "This appointment does not exist.")])
    refusal = "You may not see this appointment."
    require_visible(session, caller.user, appointment.clinician_id, refusal)


def get_own(session: Session, caller: Caller, task_id: UUID) -> Task:
    """The task, if the caller is its assignee or creator."""
    row = session.get(Task, task_id)
    if row is None:
        raise not_found("Task")
    require_task_party(caller.user, row)
    return row


def create(session: Session, caller: Caller, body: TaskCreate, task_id: UUID | None = None) -> Task:
    _check_assignee(session, body.assignee_id)
    _check_appointment(session, caller, body.appointment_id)
    if task_id is not None and session.get(Task, task_id) is not None:
        raise ApiError(409, "exists", "A task with this id exists already.")
    extra: dict[str, Any] = {
        "created_by_id": caller.user.id,
        "created_at": caller.now,
        "updated_at": caller.now,
    }
    if task_id is not None:
        extra["id"] = task_id
    row = Task.model_validate(body, update=extra)
    session.add(row)
    audit.record(session, caller, "task.create", "task", row.id)
    changes.record(session, "task", row.id, [row.assignee_id, row.created_by_id], caller.now)
    session.flush()
    return row


def update(
    session: Session, caller: Caller, row: Task, fields: dict[str, Any], base_version: int
) -> Task:
    fields = {k: v for k, v in fields.items() if v is not None or k not in _REQUIRED}
    versions.check_base(session, "task", row.id, row.version, base_version, fields)
    if "assignee_id" in fields:
        _check_assignee(session, fields["assignee_id"])
    if "appointment_id" in fields:
        _check_appointment(session, caller, fields["appointment_id"])
    previous = row.assignee_id
    row.sqlmodel_update(fields)
    row.version += 1
    versions.record_fields(session, "task", row.id, row.version, fields)
    row.updated_at = caller.now
    session.add(row)
    audit.record(session, caller, "task.update", "task", row.id, f"fields={','.join(fields)}")
    changes.record(
        session,
        "task",
        row.id,
        [row.assignee_id, row.created_by_id],
        caller.now,
        gone_from=[previous],
    )
    session.flush()
    return row
