"""This server process's row in PostgreSQL, renewed every second: what it holds dies with it.

Pages (server/realtime/shared_waiting_room.py) and calls (server/realtime/shared_call_owners.py)
name the process that holds them; they count only while its lease is ahead of the database's
clock. A process killed with -9 stops renewing, and within TTL_SECONDS every other process
treats what it held as gone. All times are the database's, so the processes' clocks (and the
tests' fixed app clock) do not matter.
"""

from uuid import UUID, uuid4

from sqlalchemy import Connection, Engine, text

#: How often the lease is renewed (and the other processes' leftovers swept).
RENEW_SECONDS = 1.0
#: A process not heard for this long is dead: its pages and calls are gone.
TTL_SECONDS = 3.0
#: Dead processes' rows are deleted this long after they expired (none of theirs counts anyway).
FORGET_SECONDS = 60.0

#: The SQL condition "process `alias` is alive" for a column naming a process.
ALIVE = (
    "EXISTS (SELECT 1 FROM server_process s WHERE s.id = {column} AND s.expires_at > now())"
)


def alive(column: str) -> str:
    """SQL: the process named by `column` holds a lease now."""
    return ALIVE.format(column=column)


class ProcessLease:
    """The lease of this process (PostgreSQL only); the methods run in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.id: UUID = uuid4()

    def renew(self, connection: Connection) -> bool:
        """Renew the lease; False when it had lapsed (another process swept it: re-register)."""
        renewed = connection.execute(
            text(
                "UPDATE server_process SET expires_at = now() + make_interval(secs => :ttl) "
                "WHERE id = :id AND expires_at > now()"
            ),
            {"id": self.id, "ttl": TTL_SECONDS},
        ).rowcount
        if renewed:
            return True
        connection.execute(
            text(
                "INSERT INTO server_process (id, started_at, expires_at) "
                "VALUES (:id, now(), now() + make_interval(secs => :ttl)) "
                "ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at"
            ),
            {"id": self.id, "ttl": TTL_SECONDS},
        )
        return False

    def alone(self) -> bool:
        """No other server process holds a lease now (what is open in the database is no
        other live process's)."""
        with self.engine.connect() as connection:
            others = connection.execute(
                text("SELECT count(*) FROM server_process WHERE id <> :id AND expires_at > now()"),
                {"id": self.id},
            ).scalar_one()
        return int(others) == 0

    def register(self) -> None:
        """Take the lease at start-up."""
        with self.engine.begin() as connection:
            self.renew(connection)

    def forget_dead(self, connection: Connection) -> None:
        """Delete the rows of processes long dead, and the calls any dead process held."""
        connection.execute(
            text(
                "DELETE FROM server_process "
                "WHERE expires_at < now() - make_interval(secs => :forget)"
            ),
            {"forget": FORGET_SECONDS},
        )
        connection.execute(text(f"DELETE FROM call_owner c WHERE NOT {alive('c.process_id')}"))

    def end(self) -> None:
        """A graceful stop: the lease ends now (its calls are free at once)."""
        with self.engine.begin() as connection:
            mine = {"id": self.id}
            connection.execute(text("DELETE FROM call_owner WHERE process_id = :id"), mine)
            connection.execute(text("DELETE FROM server_process WHERE id = :id"), mine)
