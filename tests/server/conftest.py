"""Server fixtures: each test gets a fresh SQLite file or PostgreSQL database, an app, a clinic."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from server.accounts_admin import add_user
from server.app import create_app
from server.database import create_db_engine
from server.models.access import Assignment, Delegation
from server.models.appointment import Appointment
from server.models.base import ServerTable
from server.models.location import Location
from server.models.patient import Patient
from server.schema import upgrade
from server.security.passwords import Passwords
from server.services import changes
from server.services.accounts import start_session
from server.settings import Settings
from shared.clock import FixedClock
from shared.enums import AppointmentKind, AppointmentStatus, Role
from tests.server.postgres import postgres_bin, running_cluster

#: "Now" for the server tests: Thursday 26 November 2026, 08:00 UTC.
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
TOMORROW_9 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
DATABASES = ["sqlite", "postgresql"]

_database_numbers = itertools.count(1)

#: Signs the test servers' tokens (a configured secret, as production needs).
TEST_SECRET_KEY = "a test secret of at least thirty-two characters"


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """URL of a cluster with a migrated template database `clinic_template`, or None."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        yield None
        return
    with running_cluster(bin_dir) as base:
        admin = create_engine(
            f"{base}/postgres".replace("postgresql:", "postgresql+psycopg:"),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE clinic_template"))
        template = create_db_engine(f"{base}/clinic_template")
        upgrade(template)
        template.dispose()
        admin.dispose()
        yield base


def sqlite_database(folder: Path) -> str:
    """The URL of a fresh SQLite file in `folder` with every table created."""
    url = f"sqlite:///{folder / 'server.sqlite3'}"
    engine = create_db_engine(url)
    ServerTable.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_template: str | None
) -> Iterator[str]:
    """A fresh, empty-but-migrated database of each kind."""
    if request.param == "sqlite":
        yield sqlite_database(tmp_path)
        return
    if postgres_template is None:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    name = f"clinic_test_{next(_database_numbers)}"
    admin = create_engine(
        f"{postgres_template}/postgres".replace("postgresql:", "postgresql+psycopg:"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE clinic_template"))
    yield f"{postgres_template}/{name}"
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Cheap argon2 parameters: the tests hash many passwords; production keeps the defaults.
    return Settings(
        database_url=database_url,
        secret_key=SecretStr(TEST_SECRET_KEY),
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        login_free_failures=3,
        login_delay_seconds=10,
        login_max_delay_seconds=40,
        login_failures_per_address=8,
        login_failure_window_seconds=60,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FixedClock) -> FastAPI:
    return create_app(settings, engine, clock)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


@dataclass
class Clinic:
    """Who is who in the seeded clinic, and ready access tokens for each user."""

    ids: dict[str, UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


#: admin; clerk (assigned to ng); clerk2 (no assignment); ng (sees okafor's schedule by
#: delegation); okafor; lee (nobody sees lee's schedule but lee).
STAFF = [
    ("admin", Role.ADMIN),
    ("clerk", Role.CLERK),
    ("clerk2", Role.CLERK),
    ("ng", Role.CLINICIAN),
    ("okafor", Role.CLINICIAN),
    ("lee", Role.CLINICIAN),
]


@pytest.fixture
def clinic(engine: Engine, settings: Settings) -> Clinic:
    passwords = Passwords(1, 8, 1)
    clinic = Clinic()
    with Session(engine, expire_on_commit=False) as session:
        for username, role in STAFF:
            user = add_user(session, passwords, username, username.title(), role, PASSWORD, NOW)
            clinic.ids[username] = user.id
            tokens = start_session(session, settings, user, NOW)
            clinic.tokens[username] = tokens.access_token
            clinic.refresh[username] = tokens.refresh_token
        session.add(Assignment(clerk_id=clinic.ids["clerk"], clinician_id=clinic.ids["ng"]))
        session.add(Delegation(owner_id=clinic.ids["okafor"], delegate_id=clinic.ids["ng"]))
        location = Location(
            hospital_name="St Mary's", address="Praed St", time_zone="Europe/London"
        )
        patient = Patient(
            name="Ada Lovelace", mrn="MRN1", email="ada@example.org", created_at=NOW, updated_at=NOW
        )
        session.add_all([location, patient])
        session.flush()
        clinic.ids["location"] = location.id
        clinic.ids["patient"] = patient.id
        for number, owner in enumerate(("ng", "okafor", "lee")):
            appointment = Appointment(
                patient_id=patient.id,
                clinician_id=clinic.ids[owner],
                start=TOMORROW_9 + timedelta(hours=number),
                duration_minutes=20,
                kind=AppointmentKind.VIDEO,
                status=AppointmentStatus.SCHEDULED,
                created_by_id=clinic.ids["admin"],
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(appointment)
            session.flush()
            clinic.ids[f"{owner}_appointment"] = appointment.id
            changes.record(session, "appointment", appointment.id, [appointment.clinician_id], NOW)
        changes.record(session, "patient", patient.id, [None], NOW)
        session.commit()
    return clinic
