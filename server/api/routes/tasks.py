"""Tasks: clinicians and clerks create them and see those they created or were given."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlmodel import col, or_, select

from server.api.deps import SessionDep, Staff
from server.api.error_responses import error_responses
from server.models.task import Task
from server.services import tasks
from server.services.audit import record_reads
from shared.schemas import TaskCreate, TaskPublic, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"], responses=error_responses(403))


@router.get("", summary="Tasks given to you or created by you")
def list_tasks(
    session: SessionDep,
    caller: Staff,
    done: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[TaskPublic]:
    me = caller.user.id
    query = select(Task).where(or_(col(Task.assignee_id) == me, col(Task.created_by_id) == me))
    if done is not None:
        query = query.where(Task.done == done)
    rows = list(session.exec(query.order_by(col(Task.due_date), col(Task.id)).limit(limit)))
    answer = [TaskPublic.model_validate(row) for row in rows]
    record_reads(session, caller, "task", (row.id for row in rows))
    session.commit()
    return answer


@router.get("/{task_id}", summary="One task")
def get_task(task_id: UUID, session: SessionDep, caller: Staff) -> TaskPublic:
    answer = TaskPublic.model_validate(tasks.get_own(session, caller, task_id))
    record_reads(session, caller, "task", [answer.id])
    session.commit()
    return answer


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a task",
    responses=error_responses(409),
)
def create_task(body: TaskCreate, session: SessionDep, caller: Staff) -> TaskPublic:
    row = tasks.create(session, caller, body)
    session.commit()
    return TaskPublic.model_validate(row)


@router.patch(
    "/{task_id}", summary="Change a task or mark it done", responses=error_responses(409)
)
def update_task(task_id: UUID, body: TaskUpdate, session: SessionDep, caller: Staff) -> TaskPublic:
    row = tasks.get_own(session, caller, task_id)
    changes = body.model_dump(exclude_unset=True, exclude={"base_version"})
    tasks.update(session, caller, row, changes, body.base_version)
    session.commit()
    return TaskPublic.model_validate(row)
