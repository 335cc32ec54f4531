"""A real `clinic-desk-server` on a fixed loopback port that tests can kill and start again."""

import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlmodel import Session

from app.domain.enums import Role
from server.accounts_admin import add_user
from server.database import create_db_engine
from server.models.access import Assignment
from server.models.location import Location
from server.security.passwords import Passwords
from tests.server.postgres import free_port
from tests.server.server_process import cli_env, command, run_cli

PASSWORD = "correct horse battery staple"


@dataclass
class LiveClinic:
    """Who is who on the live server: a clinician (ng), a clerk assigned to ng, an admin."""

    ids: dict[str, uuid.UUID] = field(default_factory=dict)


def seed_clinic(database_url: str, extra_clinicians: tuple[str, ...] = ()) -> LiveClinic:
    migrated = run_cli("migrate", "--database", database_url)
    assert migrated.returncode == 0, migrated.stderr
    clinic = LiveClinic()
    engine = create_db_engine(database_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        passwords = Passwords(1, 8, 1)
        for username, full_name, role in [
            ("admin", "Alex Admin", Role.ADMIN),
            ("clerk", "Sam Clerk", Role.CLERK),
            ("ng", "Dr Ng", Role.CLINICIAN),
            *[(name, f"Dr {name.title()}", Role.CLINICIAN) for name in extra_clinicians],
        ]:
            user = add_user(session, passwords, username, full_name, role, PASSWORD, now)
            clinic.ids[username] = user.id
        session.add(Assignment(clerk_id=clinic.ids["clerk"], clinician_id=clinic.ids["ng"]))
        location = Location(hospital_name="St Mary's Hospital", address="Praed Street",
                            time_zone="Europe/London")
        session.add(location)
        session.flush()
        clinic.ids["location"] = location.id
        session.commit()
    engine.dispose()
    return clinic


class LiveServer:
    """`clinic-desk-server serve` on one port for its whole life, across kills and restarts."""

    def __init__(self, database_url: str, env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = cli_env() | (env or {})
        self._process: subprocess.Popen[str] | None = None
        self._log = tempfile.TemporaryFile(mode="w+")
        # A kill may come from another thread (a timer in the fault tests): while it runs,
        # `running` waits, so nobody sees a dead process and restarts it under the killer's feet.
        self._lock = threading.Lock()

    def start(self) -> None:
        self._process = subprocess.Popen(
            [*command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--database", self.database_url],
            env=self._env, stdout=self._log, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            if self._process.poll() is not None:
                raise AssertionError(f"the server exited: {self.output()}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=2)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError("the server did not answer within 30 s") from None
                time.sleep(0.05)

    @property
    def running(self) -> bool:
        with self._lock:
            return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """As a crash would: SIGKILL, no shutdown."""
        with self._lock:
            if self._process is not None:
                self._process.kill()
                self._process.wait(timeout=10)
                self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def close(self) -> None:
        self.stop()
        self._log.close()
