"""Running the `clinic-desk-server` command in subprocesses, and a served instance on loopback."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from server.database import create_db_engine
from server.models.base import ServerTable
from tests.server.postgres import free_port

_ENTRY = Path(sys.executable).with_name("clinic-desk-server")


def command() -> list[str]:
    return [str(_ENTRY)] if _ENTRY.exists() else [sys.executable, "-m", "server.main"]


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_DESK_")}
    # Cheap hashing keeps the subprocesses quick; the parameters are settings like any other.
    env |= {
        "CLINIC_DESK_ARGON2_TIME_COST": "1",
        "CLINIC_DESK_ARGON2_MEMORY_KIB": "8",
        "CLINIC_DESK_ARGON2_PARALLELISM": "1",
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


@contextmanager
def served(url: str, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`clinic-desk-server serve` on a free 127.0.0.1 port; yields its base URL, stops it after.

    `extra` arguments go to `serve`; `env` is added to the environment.
    """
    port = free_port()
    # The log goes to a file: a pipe nobody reads would block the server once it is full.
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(
        [*command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--database", url,
         *extra],
        env=cli_env() | (env or {}),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(log.read())
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("the server did not answer within 30 s")
                time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
        log.seek(0)
        output = log.read()
        log.close()
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells of it.
        assert code == -signal.SIGTERM, output
        assert "Finished server process" in output
