"""Who has taken each appointment's call, shared by every server process on PostgreSQL.

One row per appointment (call_owner), claimed with INSERT … ON CONFLICT: of two desktops that
offer at once, on one process or two, exactly one gets the call. The row goes on hang-up, when
its desktop disconnects, or with its process's lease (server/realtime/process_lease.py): a
call whose process died can be started again. The same calls as server/realtime/call_owners.py.
"""

import asyncio
import logging
from uuid import UUID

from sqlalchemy import Engine, text

from server.realtime.process_lease import alive

log = logging.getLogger("clinicdesk.server.realtime")

_CLAIM = text(
    "INSERT INTO call_owner (appointment_id, connection_id, user_id, process_id, claimed_at) "
    "VALUES (:a, :c, :u, :p, now()) "
    "ON CONFLICT (appointment_id) DO UPDATE SET connection_id = excluded.connection_id, "
    "user_id = excluded.user_id, process_id = excluded.process_id, claimed_at = now() "
    "WHERE call_owner.connection_id = excluded.connection_id "
    f"OR NOT {alive('call_owner.process_id')} "
    "RETURNING connection_id"
)


class SharedCallOwners:
    """appointment -> (connection, user, process) in PostgreSQL; called from worker threads,
    except forget_connection (the loop's thread: it hands the delete to a worker)."""

    def __init__(self, engine: Engine, process_id: UUID) -> None:
        self._engine = engine
        self._process_id = process_id

    def claim(self, appointment_id: UUID, connection_id: UUID, user_id: UUID) -> UUID | None:
        """Take the call for this connection; the user who has it instead, when taken."""
        claim = {"a": appointment_id, "c": connection_id, "u": user_id, "p": self._process_id}
        while True:
            with self._engine.begin() as connection:
                if connection.execute(_CLAIM, claim).first() is not None:
                    return None
                owner = connection.execute(
                    text("SELECT user_id FROM call_owner WHERE appointment_id = :a"),
                    {"a": appointment_id},
                ).scalar_one_or_none()
            if isinstance(owner, UUID):
                return owner
            # Released between the two statements: claim again.

    def release(self, appointment_id: UUID, connection_id: UUID | None = None) -> None:
        """The call ended (a hangup from its desktop, or from the patient: `None`)."""
        with self._engine.begin() as connection:
            connection.execute(
                text(
                    "DELETE FROM call_owner WHERE appointment_id = :a "
                    "AND (CAST(:c AS uuid) IS NULL OR connection_id = :c)"
                ),
                {"a": appointment_id, "c": connection_id},
            )

    def forget_connection(self, connection_id: UUID) -> None:
        """A desktop went away: the calls it held are free again (deleted off the loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._forget(connection_id)
            return
        loop.run_in_executor(None, self._forget, connection_id)

    def _forget(self, connection_id: UUID) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    text("DELETE FROM call_owner WHERE connection_id = :c"), {"c": connection_id}
                )
        except Exception:
            log.exception("could not free a disconnected desktop's calls")
