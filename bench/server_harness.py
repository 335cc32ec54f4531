"""What the server benchmarks share: a throwaway database, a seeded clinic, a served process.

Run as a script (`server_harness.py serve URL PORT`) it is the served process: the real app
under uvicorn on 127.0.0.1, plus one benchmark-only route that publishes waiting-room presence
the way the patient's page will (the page is a later issue).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import create_engine, insert, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server.database import create_db_engine  # noqa: E402
from server.models.access import Assignment  # noqa: E402
from server.models.appointment import Appointment  # noqa: E402
from server.models.patient import Patient  # noqa: E402
from server.models.sync import Change  # noqa: E402
from server.models.user import User  # noqa: E402
from server.schema import upgrade  # noqa: E402
from server.security.passwords import Passwords  # noqa: E402
from server.services.accounts import start_session  # noqa: E402
from server.settings import Settings  # noqa: E402
from shared.enums import AppointmentKind, AppointmentStatus, Role  # noqa: E402
from tests.server.postgres import free_port, postgres_bin, running_cluster  # noqa: E402

PASSWORD = "benchmark password"
#: Cheap hashing for the seeded accounts only; the served process keeps its own settings.
_SEED_PASSWORDS = Passwords(1, 8, 1)


@contextmanager
def database(postgres: bool) -> Iterator[str]:
    """A migrated, empty database URL: a SQLite file, or a throwaway PostgreSQL cluster."""
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="clinic-desk-bench-") as folder:
            url = f"sqlite:///{folder}/server.sqlite3"
            _migrate(url)
            yield url
        return
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    with running_cluster(bin_dir) as base:
        admin = create_engine(f"{base}/postgres".replace("postgresql:", "postgresql+psycopg:"))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CREATE DATABASE clinic_bench"))
        admin.dispose()
        url = f"{base}/clinic_bench"
        _migrate(url)
        yield url


def _migrate(url: str) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()


@dataclass
class Seeded:
    clinician: uuid.UUID
    clerks: list[uuid.UUID] = field(default_factory=list)
    patients: list[uuid.UUID] = field(default_factory=list)
    appointments: list[uuid.UUID] = field(default_factory=list)


def seed(url: str, appointments: int, patients: int, clerks: int, first_day: datetime) -> Seeded:
    """One clinician with `appointments` (100 a day from `first_day`), assigned clerks, patients."""
    now = datetime.now(UTC).replace(microsecond=0)
    engine = create_db_engine(url)
    password_hash = _SEED_PASSWORDS.hash(PASSWORD)
    seeded = Seeded(clinician=uuid.uuid4())
    users = [
        dict(
            id=seeded.clinician,
            username="dr.bench",
            full_name="Dr Bench",
            role=Role.CLINICIAN,
            password_hash=password_hash,
            created_at=now,
        )
    ]
    for number in range(clerks):
        seeded.clerks.append(uuid.uuid4())
        users.append(
            dict(
                id=seeded.clerks[-1],
                username=f"clerk{number}",
                full_name=f"Clerk {number}",
                role=Role.CLERK,
                password_hash=password_hash,
                created_at=now,
            )
        )
    seeded.patients = [uuid.uuid4() for _ in range(patients)]
    patient_rows = [
        dict(
            id=pid,
            name=f"Patient {n:05d}",
            mrn=f"MRN{n:05d}",
            email=f"p{n}@example.org",
            phone="",
            created_at=now,
            updated_at=now,
        )
        for n, pid in enumerate(seeded.patients)
    ]
    seeded.appointments = [uuid.uuid4() for _ in range(appointments)]
    appointment_rows = [
        dict(
            id=aid,
            patient_id=seeded.patients[n % patients],
            clinician_id=seeded.clinician,
            start=first_day + timedelta(days=n // 100, minutes=5 * (n % 100)),
            duration_minutes=5,
            kind=AppointmentKind.VIDEO,
            status=AppointmentStatus.SCHEDULED,
            created_by_id=seeded.clinician,
            created_at=now,
            updated_at=now,
        )
        for n, aid in enumerate(seeded.appointments)
    ]
    changes = [
        dict(entity_type="patient", entity_id=pid, scope_id=None, deleted=False, at=now)
        for pid in seeded.patients
    ] + [
        dict(
            entity_type="appointment",
            entity_id=aid,
            scope_id=seeded.clinician,
            deleted=False,
            at=now,
        )
        for aid in seeded.appointments
    ]
    with Session(engine) as session:
        session.execute(insert(User), users)
        session.execute(insert(Patient), patient_rows)
        session.execute(insert(Appointment), appointment_rows)
        session.execute(insert(Change), changes)
        session.execute(
            insert(Assignment),
            [dict(clerk_id=clerk, clinician_id=seeded.clinician) for clerk in seeded.clerks],
        )
        session.commit()
    engine.dispose()
    return seeded


def access_tokens(
    url: str, user_ids: list[uuid.UUID], secret_key: str | None = None
) -> list[str]:
    """A signed-in session per user, made in the database (signing in 1,000 users over HTTP
    would benchmark argon2); the served process checks them like any other. `secret_key`:
    the signing secret of a server made in this process (a served one keeps its own)."""
    engine = create_db_engine(url)
    settings = Settings(database_url=url,
                        secret_key=None if secret_key is None else SecretStr(secret_key))
    now = datetime.now(UTC).replace(microsecond=0)
    tokens = []
    with Session(engine) as session:
        for user_id in user_ids:
            user = session.get(User, user_id)
            assert user is not None
            tokens.append(start_session(session, settings, user, now).access_token)
        session.commit()
    engine.dispose()
    return tokens


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_DESK_")}


@contextmanager
def served(
    url: str, command: list[str] | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """The server on a free 127.0.0.1 port (the real CLI unless `command` is given); its URL.
    `env` adds to its environment (CLINIC_DESK_SECRET_KEY for processes sharing tokens)."""
    port = free_port()
    args = command or [str(Path(sys.executable).with_name("clinic-desk-server")), "serve"]
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [*args, "--host", "127.0.0.1", "--port", str(port), "--database", url],
        env=_env() | (env or {}),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a cold start on a loaded machine took 30 s+
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"the server did not start:\n{log.read()}")
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.seek(0)
        output = log.read()
        log.close()
        if "Traceback" in output:
            first = output[output.index("Traceback") :].split("\n\n")[0]
            print(f"the server logged errors; the first:\n{first[-3000:]}", file=sys.stderr)


def harness_command(deflate: bool = False) -> list[str]:
    """The command that serves the app plus the benchmark-only presence route (below).

    `deflate` turns WebSocket compression back on, to compare with the served default (off).
    """
    command = [sys.executable, str(Path(__file__).resolve()), "serve"]
    return [*command, "--ws-deflate"] if deflate else command


def _serve_with_presence_route(argv: list[str]) -> None:
    import argparse

    import uvicorn

    from server.app import create_app
    from server.app_state import state_of
    from server.main import UVICORN_OPTIONS
    from server.services.presence import publish_presence
    from server.session_effects import ServerSession
    from shared.realtime_protocol import PresenceState

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--ws-deflate", action="store_true")
    args = parser.parse_args(argv)
    if args.host != "127.0.0.1":
        raise SystemExit("the benchmark server binds 127.0.0.1 only")
    app = create_app(Settings(database_url=args.database))

    @app.post("/bench/presence/{appointment_id}")
    def bench_presence(appointment_id: uuid.UUID) -> dict[str, float]:
        """Publish 'entered'; answer the monotonic time of the commit that publishes it."""
        state = state_of(app)
        with ServerSession(state.engine, hub=state.hub) as session:
            publish_presence(session, appointment_id, PresenceState.ENTERED, datetime.now(UTC))
            published_at = time.monotonic()
            session.commit()
        return {"published_at": published_at}

    options = UVICORN_OPTIONS | {"log_level": "warning"}
    if args.ws_deflate:
        options["ws_per_message_deflate"] = True
    uvicorn.run(app, host=args.host, port=args.port, **options)


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        raise SystemExit("usage: server_harness.py serve --port P --database URL")
    _serve_with_presence_route(sys.argv[2:])
