"""Push: apply a batch of client mutations, each atomically (a savepoint) and exactly once.

The answer to every mutation (applied or rejected) is stored in the ledger in the same
transaction as its effect, so a repeat, even concurrent, gets the same answer and no second
effect. The push commits once (docs/deploy.md, Throughput). A rejection never stops the
mutations after it: neither does a mutation the database refuses to store (a NUL on
PostgreSQL, a date past 9999), which is rejected on its own.
"""

import logging
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session, col, select

from server.errors import ApiError, invalid
from server.models.patient import Patient
from server.models.patient_list import PatientList
from server.models.sync import ClientMutation
from server.models.task import Task
from server.services import booking, patient_lists, patients, tasks
from server.services.caller import Caller
from shared.errors import FieldError
from shared.schemas import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentUpdate,
    PatientCreate,
    PatientListCreate,
    PatientListUpdate,
    PatientUpdate,
    StatusMove,
    TaskCreate,
    TaskUpdate,
)
from shared.sync_protocol import (
    Intent,
    Mutation,
    MutationResult,
    RejectReason,
    WireFieldError,
)

log = logging.getLogger("clinicdesk.server.sync")

#: PostgreSQL's deadlock_detected and serialization_failure: retried, not refused.
_RETRY_STATES = {"40P01", "40001"}
#: Lock cycles one push may meet before it fails (5xx: the client pushes again later).
_LOCK_CYCLE_TRIES = 5


def _reason(error: ApiError) -> RejectReason:
    if error.code in ("double_booking", "stale_version"):
        return RejectReason(error.code)
    if error.code == "duplicate_mrn":
        # Decided, not a race: stored like any refusal, so it is not retried as it stands.
        return RejectReason.INVALID
    return {
        403: RejectReason.FORBIDDEN,
        404: RejectReason.NOT_FOUND,
        422: RejectReason.INVALID,
    }.get(error.status, RejectReason.CONFLICT)


def _rejected(mutation: Mutation, error: ApiError) -> MutationResult:
    return MutationResult(
        id=mutation.id,
        status="rejected",
        entity_id=mutation.entity_id,
        reason=_reason(error),
        code=error.code,
        message=error.message,
        fields=[WireFieldError.of(f) for f in error.fields],
    )


def _sentence(detail: Any) -> str:
    """The rule's own sentence for a failed check, without pydantic's "Value error, " prefix."""
    if detail["type"] == "value_error" and "error" in detail.get("ctx", {}):
        return str(detail["ctx"]["error"])
    return str(detail["msg"])


def _payload_error(error: ValidationError) -> ApiError:
    fields = [
        FieldError(".".join(str(p) for p in e["loc"]) or "payload", _sentence(e))
        for e in error.errors()
    ]
    return invalid(fields)


def _unstorable() -> ApiError:
    return ApiError(
        422,
        "unstorable",
        "The server cannot store this change: a value in it is out of range or not allowed. "
        "Correct it and save again.",
    )


def _needs_version(mutation: Mutation) -> int:
    if mutation.base_version is None:
        raise invalid([FieldError("base_version", "A change needs the version it was based on.")])
    return mutation.base_version


def _upsert_list(session: Session, caller: Caller, mutation: Mutation) -> int:
    if session.get(PatientList, mutation.entity_id) is None:
        body = PatientListCreate.model_validate(mutation.payload)
        return patient_lists.create(session, caller, body, mutation.entity_id).version
    version = _needs_version(mutation)
    edit = PatientListUpdate.model_validate(mutation.payload | {"base_version": version})
    stored = patient_lists.get(session, mutation.entity_id)
    fields = edit.model_dump(exclude_unset=True, exclude={"base_version"})
    return patient_lists.update(session, caller, stored, fields, version).version


def _apply(session: Session, caller: Caller, mutation: Mutation) -> int:
    """Carry out the intent; return the record's new version (ApiError when refused)."""
    payload = mutation.payload
    try:
        if mutation.intent is Intent.APPOINTMENT_CREATE:
            body = AppointmentCreate.model_validate(payload)
            return booking.create(session, caller, body, mutation.entity_id).version
        if mutation.intent is Intent.APPOINTMENT_UPDATE:
            version = _needs_version(mutation)
            update = AppointmentUpdate.model_validate(payload | {"base_version": version})
            row = booking.get(session, mutation.entity_id)
            booking.update(session, caller, row, update)
            return row.version
        if mutation.intent is Intent.APPOINTMENT_CANCEL:
            version = _needs_version(mutation)
            cancel = AppointmentCancel.model_validate(payload | {"base_version": version})
            row = booking.get(session, mutation.entity_id)
            booking.cancel(session, caller, row, cancel.reason, version)
            return row.version
        if mutation.intent is Intent.APPOINTMENT_STATUS:
            version = _needs_version(mutation)
            move = StatusMove.model_validate(payload)
            row = booking.get(session, mutation.entity_id)
            booking.set_status(session, caller, row, move.status, version)
            return row.version
        if mutation.intent is Intent.PATIENT_UPSERT:
            if session.get(Patient, mutation.entity_id) is None:
                patient = PatientCreate.model_validate(payload)
                return patients.create(session, caller, patient, mutation.entity_id).version
            version = _needs_version(mutation)
            edit = PatientUpdate.model_validate(payload | {"base_version": version})
            stored = patients.get(session, mutation.entity_id)
            fields = edit.model_dump(exclude_unset=True, exclude={"base_version"})
            return patients.update(session, caller, stored, fields, version).version
        if mutation.intent is Intent.PATIENT_LIST_UPSERT:
            return _upsert_list(session, caller, mutation)
        if session.get(Task, mutation.entity_id) is None:
            task = TaskCreate.model_validate(payload)
            return tasks.create(session, caller, task, mutation.entity_id).version
        version = _needs_version(mutation)
        change = TaskUpdate.model_validate(payload | {"base_version": version})
        own = tasks.get_own(session, caller, mutation.entity_id)
        fields = change.model_dump(exclude_unset=True, exclude={"base_version"})
        return tasks.update(session, caller, own, fields, version).version
    except ValidationError as error:
        raise _payload_error(error) from None


def _stored(session: Session, caller: Caller, mutation: Mutation) -> MutationResult | None:
    """The answer already given to this mutation, if any."""
    row = session.get(ClientMutation, mutation.id)
    if row is None:
        return None
    if row.user_id != caller.user.id:
        return _rejected(mutation, ApiError(403, "forbidden", "This mutation id is not yours."))
    return MutationResult.model_validate_json(row.answer)


class _Ledger:
    """What the ledger already holds for one push's ids and sequence numbers: read once."""

    def __init__(
        self, session: Session, caller: Caller, client_id: UUID, mutations: list[Mutation]
    ) -> None:
        self.user_id = caller.user.id  # read before any rollback expires the loaded user
        ids = [m.id for m in mutations]
        self.rows = {
            row.id: row
            for row in session.exec(select(ClientMutation).where(col(ClientMutation.id).in_(ids)))
        }
        seqs = [m.seq for m in mutations]
        self.seqs = dict(
            session.exec(
                select(ClientMutation.client_seq, ClientMutation.id).where(
                    ClientMutation.client_id == client_id,
                    col(ClientMutation.client_seq).in_(seqs),
                )
            ).all()
        )

    def answer(self, mutation: Mutation) -> MutationResult | None:
        """The answer already given to this mutation, if any."""
        row = self.rows.get(mutation.id)
        if row is None:
            return None
        if row.user_id != self.user_id:
            return _rejected(mutation, ApiError(403, "forbidden", "This mutation id is not yours."))
        return MutationResult.model_validate_json(row.answer)

    def seq_taken(self, mutation: Mutation) -> bool:
        return self.seqs.get(mutation.seq, mutation.id) != mutation.id

    def saved(self, row: ClientMutation) -> None:
        self.rows[row.id] = row
        self.seqs[row.client_seq] = row.id


def _save(
    session: Session, caller: Caller, client_id: UUID, mutation: Mutation, answer: MutationResult
) -> ClientMutation:
    row = ClientMutation(
        id=mutation.id,
        client_id=client_id,
        client_seq=mutation.seq,
        user_id=caller.user.id,
        intent=mutation.intent.value,
        answer=answer.model_dump_json(),
        applied_at=caller.now,
    )
    session.add(row)
    session.flush()
    return row


class _LockCycle(Exception):
    """The database broke a lock cycle (or a serialization failure) by failing this mutation."""

    def __init__(self, error: OperationalError) -> None:
        super().__init__(str(error))
        self.error = error


def _is_lock_cycle(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) in _RETRY_STATES


def _attempt(
    session: Session, caller: Caller, client_id: UUID, mutation: Mutation, ledger: _Ledger
) -> MutationResult:
    """Apply one mutation inside a savepoint of the push's transaction; store its answer."""
    user_id = ledger.user_id
    previous = ledger.answer(mutation)
    if previous is not None:
        return previous
    if ledger.seq_taken(mutation):
        message = f"Sequence number {mutation.seq} of this client was used by another mutation."
        return _rejected(mutation, ApiError(409, "seq_reused", message))
    try:
        with session.begin_nested():
            version = _apply(session, caller, mutation)
            answer = MutationResult(
                id=mutation.id, status="applied", entity_id=mutation.entity_id, version=version
            )
            ledger.saved(_save(session, caller, client_id, mutation, answer))
        return answer
    except ApiError as error:
        answer = _rejected(mutation, error)
    except IntegrityError:
        # The same mutation (or sequence number) was committed meanwhile by a concurrent push.
        previous = _stored(session, caller, mutation)
        if previous is not None:
            return previous
        # Another write took a unique value first (a record id, an external id). Not stored:
        # a retry of this mutation is decided afresh.
        log.warning("mutation %s of user %s hit a constraint", mutation.id, user_id)
        message = "Someone else saved a conflicting change at the same moment; try again."
        return _rejected(mutation, ApiError(409, "conflict", message))
    except OperationalError as error:
        if _is_lock_cycle(error):
            raise _LockCycle(error) from error
        # The database itself is unavailable (gone, locked too long): the push fails, and the
        # client retries it; the ledger answers what was already committed.
        raise
    except InterfaceError:
        raise
    except Exception as error:
        # Anything else this one mutation raised (the database refusing a value, an overflow
        # computing a time) must not fail the push: the mutations before it need their
        # answers, and the ones after it must still apply. Its answer is a rejection.
        # Only the exception's type: its text may quote the values (patient data).
        log.warning("mutation %s of user %s could not be stored: %s", mutation.id, user_id,
                    type(error).__name__)
        answer = _rejected(mutation, _unstorable())
    try:
        with session.begin_nested():
            ledger.saved(_save(session, caller, client_id, mutation, answer))
    except IntegrityError:
        previous = _stored(session, caller, mutation)
        if previous is None:
            raise
        return previous
    return answer


def apply_push(
    session: Session, caller: Caller, client_id: UUID, mutations: list[Mutation]
) -> list[MutationResult]:
    """Apply a push's mutations in order, each atomically and exactly once; commit once.

    Each mutation runs in a savepoint of one transaction (a refusal rolls back only its own
    savepoint), so a push costs one commit, not one per mutation. When the database breaks a
    lock cycle with another push, what is done so far is committed, which frees this push's
    locks, and the failed mutation is tried again in a new transaction.
    """
    ledger = _Ledger(session, caller, client_id, mutations)
    results: list[MutationResult] = []
    tries = 0
    while len(results) < len(mutations):
        mutation = mutations[len(results)]
        try:
            results.append(_attempt(session, caller, client_id, mutation, ledger))
        except _LockCycle as cycle:
            tries += 1
            if tries > _LOCK_CYCLE_TRIES:
                session.rollback()
                raise cycle.error from None  # answered like a database that is unavailable
            log.info("push of user %s met a lock cycle; committing %d and going on",
                     ledger.user_id, len(results))
            session.commit()
    session.commit()
    return results
