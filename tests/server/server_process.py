"""Running the `clinic-desk-server` command in subprocesses, and a served instance on loopback."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text

from server.database import create_db_engine
from server.models.base import ServerTable
from tests.polling import wait_until
from tests.server.postgres import free_port

_ENTRY = Path(sys.executable).with_name("clinic-desk-server")
#: The servers' data folder (where a PostgreSQL database's generated secret is kept): never the
#: user's own.
_DATA_HOME = tempfile.mkdtemp(prefix="clinic-desk-test-data-")


def command() -> list[str]:
    return [str(_ENTRY)] if _ENTRY.exists() else [sys.executable, "-m", "server.main"]


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_DESK_")}
    # Cheap hashing keeps the subprocesses quick; the parameters are settings like any other.
    env |= {
        "CLINIC_DESK_ARGON2_TIME_COST": "1",
        "CLINIC_DESK_ARGON2_MEMORY_KIB": "8",
        "CLINIC_DESK_ARGON2_PARALLELISM": "1",
        "XDG_DATA_HOME": _DATA_HOME,
    }
    return env


def run_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or cli_env(),
    )


def create_user(
    url: str, username: str, role: str, password: str
) -> subprocess.CompletedProcess[str]:
    """`clinic-desk-server create-user` with the password on standard input."""
    return run_cli(
        "create-user", "--database", url, "--username", username, "--role", role,
        "--password-stdin", stdin=f"{password}\n",
    )


def empty_database(database_url: str) -> str:
    """The fixture's database minus its tables, so that the CLI's migrate starts from nothing."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return f"sqlite:///{path.with_name('cli.sqlite3')}"
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        ServerTable.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return database_url


class LiveServer:
    """`clinic-desk-server serve` on one free loopback port for its whole life, across kills
    and restarts: the one subprocess server runner of the tests."""

    def __init__(
        self, database_url: str, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()
    ) -> None:
        self.database_url = database_url
        self.extra = extra  # more arguments for `serve` (--mllp-port N)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = cli_env() | (env or {})
        self._process: subprocess.Popen[str] | None = None
        self._kill_lock = threading.Lock()
        # The log goes to a file: a pipe nobody reads would block the server once it is full.
        self._log = tempfile.TemporaryFile(mode="w+")

    def start(self) -> None:
        process = self._process = subprocess.Popen(
            [*command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--database", self.database_url, *self.extra],
            env=self._env, stdout=self._log, stderr=subprocess.STDOUT, text=True,
        )

        def answering() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {self.output()}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=2)
            except httpx.TransportError:
                return False
            return True

        try:
            # Generous: a cold start (imports, migrations) on a loaded 2-core machine took 30 s+.
            wait_until(answering, timeout=120, what="the server to answer /healthz")
        except AssertionError:
            # A fixture that fails while starting never reaches its teardown: without this the
            # server would outlive the test run (seen on a loaded machine).
            self.kill()
            raise

    @property
    def running(self) -> bool:
        # A kill may come from another thread (a timer in the fault tests): while it runs,
        # this waits, so nobody sees a dead process and restarts it under the killer's feet.
        with self._kill_lock:
            return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """As a crash would: SIGKILL, no shutdown."""
        with self._kill_lock:
            if self._process is not None:
                self._process.kill()
                self._process.wait(timeout=10)
                self._process = None

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; its exit status (None: it was not running)."""
        process, self._process = self._process, None
        if process is None:
            return None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(timeout=10)

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def close(self) -> None:
        self.stop()
        self._log.close()


@contextmanager
def served(
    url: str, *extra: str, env: dict[str, str] | None = None, output: list[str] | None = None
) -> Iterator[str]:
    """A server on `url`'s database for the block; yields its base URL, then checks that it
    shut down gracefully. `extra` arguments go to `serve`, `env` is added to the environment;
    `output`, if given, receives the server's whole log once it stopped."""
    server = LiveServer(url, env, extra)
    try:
        server.start()
        yield server.url
        code = server.stop()
        text = server.output()
    finally:
        server.close()
    if output is not None:
        output.append(text)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells of it.
    assert code == -signal.SIGTERM, text
    assert "Finished server process" in text
