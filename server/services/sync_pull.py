"""Pull: what changed after a cursor, for what the user may see, from one consistent snapshot."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from pydantic import TypeAdapter
from sqlmodel import Session, and_, col, or_, select

from server.models.appointment import Appointment
from server.models.patient import Patient
from server.models.patient_list import PatientList
from server.models.phone_attempt import PhoneAttempt
from server.models.sync import Change
from server.models.task import Task
from server.security.access_rules import tasks_of, visible_clinicians
from server.services import audit, changes, patient_lists, phone_attempts
from server.services.appointment_view import public_appointments
from server.services.caller import Caller
from shared.schemas import PatientPublic, TaskPublic
from shared.sync_protocol import (
    PROTOCOL_VERSION,
    ChangeOut,
    EntityType,
    PublicRecord,
    PullResponse,
)


@contextmanager
def snapshot(session: Session) -> Iterator[Session]:
    """A session whose reads all see one moment: REPEATABLE READ on PostgreSQL.

    On SQLite the request's own transaction already is one (BEGIN IMMEDIATE holds the file).
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield session
        return
    engine = bind.engine
    with Session(engine.execution_options(isolation_level="REPEATABLE READ")) as snap:
        yield snap
        snap.rollback()


def _fingerprint(user_id: UUID, clinicians: set[UUID]) -> str:
    names = [str(user_id), *sorted(str(c) for c in clinicians)]
    return hashlib.sha256(" ".join(names).encode()).hexdigest()[:16]


def _states(
    session: Session, rows: list[Change], user_id: UUID, clinicians: set[UUID]
) -> dict[tuple[EntityType, UUID], PublicRecord]:
    """The current public state of each record the user may still see, a few queries per type."""
    wanted: dict[EntityType, list[UUID]] = {kind: [] for kind in EntityType}
    for row in rows:
        if not row.deleted:
            wanted[EntityType(row.entity_type)].append(row.entity_id)
    states: dict[tuple[EntityType, UUID], PublicRecord] = {}
    if wanted[EntityType.APPOINTMENT]:
        appointments = session.exec(
            select(Appointment).where(
                col(Appointment.id).in_(wanted[EntityType.APPOINTMENT]),
                col(Appointment.clinician_id).in_(clinicians),
            )
        ).all()
        for appointment in public_appointments(session, appointments):
            states[(EntityType.APPOINTMENT, appointment.id)] = appointment
    if wanted[EntityType.PATIENT]:
        patients = select(Patient).where(col(Patient.id).in_(wanted[EntityType.PATIENT]))
        for patient in session.exec(patients):
            states[(EntityType.PATIENT, patient.id)] = PatientPublic.model_validate(patient)
    if wanted[EntityType.PATIENT_LIST]:
        lists = select(PatientList).where(col(PatientList.id).in_(wanted[EntityType.PATIENT_LIST]))
        for listed in session.exec(lists):
            states[(EntityType.PATIENT_LIST, listed.id)] = patient_lists.public(session, listed)
    if wanted[EntityType.PHONE_ATTEMPT]:
        attempts = select(PhoneAttempt).join(
            Appointment, col(Appointment.id) == col(PhoneAttempt.appointment_id)
        ).where(
            col(PhoneAttempt.id).in_(wanted[EntityType.PHONE_ATTEMPT]),
            col(Appointment.clinician_id).in_(clinicians),
        )
        for attempt in session.exec(attempts):
            states[(EntityType.PHONE_ATTEMPT, attempt.id)] = phone_attempts.public(attempt)
    if wanted[EntityType.TASK]:
        mine = tasks_of(user_id)
        tasks = select(Task).where(col(Task.id).in_(wanted[EntityType.TASK]), mine)
        for task in session.exec(tasks):
            states[(EntityType.TASK, task.id)] = TaskPublic.model_validate(task)
    return states


#: Parses one change by its type (and refuses a state of another type).
_CHANGE: TypeAdapter[ChangeOut] = TypeAdapter(ChangeOut)


def _change(seq: int, kind: EntityType, entity_id: UUID, data: PublicRecord | None) -> ChangeOut:
    """The change of one record: its public state, or a tombstone (`data` None)."""
    fields = {"seq": seq, "type": kind, "id": entity_id, "deleted": data is None, "data": data}
    return _CHANGE.validate_python(fields)


def pull(session: Session, caller: Caller, cursor: int, limit: int) -> PullResponse:
    with snapshot(session) as snap:
        user_id = caller.user.id
        clinicians = visible_clinicians(snap, caller.user)
        scope = _fingerprint(user_id, clinicians)
        visible = or_(
            and_(
                col(Change.entity_type).in_(
                    [EntityType.APPOINTMENT.value, EntityType.PHONE_ATTEMPT.value]
                ),
                col(Change.scope_id).in_(clinicians),
            ),
            col(Change.entity_type) == EntityType.PATIENT.value,
            col(Change.entity_type) == EntityType.PATIENT_LIST.value,
            and_(col(Change.entity_type) == EntityType.TASK.value, col(Change.scope_id) == user_id),
        )
        rows = list(
            snap.exec(
                select(Change)
                .where(col(Change.seq) > cursor, visible)
                .order_by(col(Change.seq))
                .limit(limit + 1)
            )
        )
        has_more = len(rows) > limit
        rows = rows[:limit]
        # Nothing visible is left after this page: jump to the head of the log (same snapshot).
        head = changes.head(snap)
        next_cursor = rows[-1].seq if has_more else max(head, cursor)
        latest: dict[tuple[str, UUID], Change] = {}
        for row in rows:
            latest.pop((row.entity_type, row.entity_id), None)
            latest[(row.entity_type, row.entity_id)] = row
        # A record gone or out of the user's view since the change: a tombstone.
        states = _states(snap, list(latest.values()), user_id, clinicians)
        out: list[ChangeOut] = []
        for change in latest.values():
            assert change.seq is not None
            kind = EntityType(change.entity_type)
            data = states.get((kind, change.entity_id))
            out.append(_change(change.seq, kind, change.entity_id, data))
    assert next_cursor is not None
    kinds = sorted({c.type for c in out})
    audit.record(
        session,
        caller,
        "sync.pull",
        "sync",
        detail=f"after={cursor} to={next_cursor} records={len(out)} types={','.join(kinds)}",
    )
    return PullResponse(
        protocol=PROTOCOL_VERSION,
        cursor=next_cursor,
        has_more=has_more,
        server_time=caller.now,
        scope=scope,
        changes=out,
        head=max(head, next_cursor),
    )
