"""Tasks in the local store: the list the Tasks view shows, and validated writes."""

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.store import mutations
from app.store.errors import NotFound
from app.store.tables import StaffRow, SyncRecordRow, TaskRow
from app.store.wire_records import task_row_fields
from shared.drafts import TaskDraft
from shared.enums import Role, SyncState
from shared.errors import FieldError, ValidationFailed
from shared.records import StaffMember, Task
from shared.validation import date_problem, text_problem

MAX_TASK_TEXT = 2000


def list_tasks(
    session: Session, task_id: UUID | None = None, appointment_ids: set[UUID] | None = None
) -> list[Task]:
    """Every task on this desktop (the sync brings those given to or made by this user), the
    one with `task_id`, or those about `appointment_ids`."""
    columns: tuple[Any, ...] = (TaskRow, StaffRow.name, StaffRow.role, SyncRecordRow.state,
                                SyncRecordRow.message)
    query = (
        sa_select(*columns)
        .outerjoin(StaffRow, col(StaffRow.id) == col(TaskRow.assignee_id))
        .outerjoin(SyncRecordRow, and_(col(SyncRecordRow.entity_type) == "task",
                                       col(SyncRecordRow.entity_id) == col(TaskRow.id)))
        .order_by(col(TaskRow.done), col(TaskRow.due_date), col(TaskRow.updated_at))
    )
    if task_id is not None:
        query = query.where(col(TaskRow.id) == task_id)
    if appointment_ids is not None:
        query = query.where(col(TaskRow.appointment_id).in_(appointment_ids))
    found = []
    for row, name, role, state, message in session.execute(query):
        assignee = StaffMember(row.assignee_id, name or "(unknown)", Role(role or "clinician"))
        found.append(Task(
            id=row.id, assignee=assignee, text=row.text, due_date=row.due_date, done=row.done,
            appointment_id=row.appointment_id, created_by_id=row.created_by_id,
            version=row.version, sync_state=SyncState(state or SyncState.SYNCED),
            sync_message=message or "",
        ))
    return found


def get_task(session: Session, task_id: UUID) -> Task:
    found = list_tasks(session, task_id)
    if not found:
        raise NotFound("This task is no longer on this desktop.")
    return found[0]


def save_task(
    session: Session, draft: TaskDraft, now: datetime, creator_id: UUID | None
) -> Task:
    """Create or change a task and queue it for the server, in one transaction."""
    errors = []
    text = draft.text.strip()
    if not text:
        errors.append(FieldError("text", "Say what needs doing."))
    elif len(text) > MAX_TASK_TEXT:
        errors.append(FieldError("text", f"Keep it under {MAX_TASK_TEXT} characters."))
    elif (problem := text_problem(text, "the task", multiline=True)) is not None:
        errors.append(FieldError("text", problem))
    if draft.assignee_id is None or session.get(StaffRow, draft.assignee_id) is None:
        errors.append(FieldError("assignee", "Choose who does it."))
    if draft.due_date is not None and draft.due_date < date(2000, 1, 1):
        errors.append(FieldError("due_date", "Choose a due date."))
    elif draft.due_date is not None and (problem := date_problem(draft.due_date)) is not None:
        errors.append(FieldError("due_date", problem))
    if errors:
        raise ValidationFailed(errors)
    assert draft.assignee_id is not None
    before = None
    if draft.id is None:
        row = TaskRow(id=uuid.uuid4(), assignee_id=draft.assignee_id, text=text,
                      created_by_id=creator_id, updated_at=now)
    else:
        found = session.get(TaskRow, draft.id)
        if found is None:
            raise NotFound("This task is no longer on this desktop.")
        row = found
        before = task_row_fields(row)
        row.version += 1
    row.assignee_id = draft.assignee_id
    row.text = text
    row.due_date = draft.due_date
    row.done = draft.done
    row.appointment_id = draft.appointment_id
    row.updated_at = now
    session.add(row)
    session.flush()
    mutations.task_saved(session, row, before, now)
    return get_task(session, row.id)
