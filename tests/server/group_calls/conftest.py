"""Group-call fixtures: Janus in the test's network namespace, a server that uses it (SQLite,
the real clock: Janus checks its tokens against it), group appointments and credentials.

The helpers (book_group, staff_join...) are imported by the test modules.
"""

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from server.app import create_app
from server.app_state import state_of
from server.database import create_db_engine
from server.models.appointment import Appointment, AppointmentParticipant
from server.models.base import ServerTable
from server.models.user import User
from server.services import group_call_controls, patient_links
from server.services.accounts import start_session
from server.settings import Settings
from shared.clock import FixedClock
from shared.enums import AppointmentKind, AppointmentStatus
from shared.group_call_protocol import GroupJoin
from tests.janus_server import JanusServer, janus_server
from tests.netns import NetNamespace, net_namespace
from tests.server.conftest import Clinic
from tests.server.live_server import live


@pytest.fixture(scope="module")
def namespace() -> Iterator[NetNamespace]:
    with net_namespace() as namespace:
        yield namespace


@pytest.fixture(scope="module")
def janus(
    namespace: NetNamespace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JanusServer]:
    with janus_server(namespace, tmp_path_factory.mktemp("janus")) as server:
        yield server


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # SQLite only: the test runs inside its own network namespace, where no PostgreSQL listens.
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    engine = create_db_engine(url)
    ServerTable.metadata.create_all(engine)
    engine.dispose()
    return url


def janus_settings(settings: Settings, janus: JanusServer, **changes: object) -> Settings:
    values = settings.model_dump() | {
        "janus_url": janus.url,
        "janus_public_url": janus.ws_url,
        "janus_api_secret": janus.config.api_secret,
        "janus_token_secret": janus.config.token_secret,
        "janus_room_key": janus.config.room_key,
        "janus_timeout_seconds": 2.0,
    }
    return Settings(**(values | changes))


@pytest.fixture
def clock() -> FixedClock:
    # Janus checks its tokens' expiry against the real clock: so does this test's server.
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def clinic(clinic: Clinic, engine: Engine, settings: Settings, clock: FixedClock) -> Clinic:
    """The seeded clinic, signed in now rather than on the other tests' fixed day."""
    with Session(engine, expire_on_commit=False) as session:
        for username in clinic.tokens:
            user = session.get(User, clinic.ids[username])
            assert user is not None
            clinic.tokens[username] = start_session(
                session, settings, user, clock.now()
            ).access_token
        session.commit()
    return clinic


@pytest.fixture
def inside(namespace: NetNamespace) -> Iterator[None]:
    with namespace.entered():
        yield


@pytest.fixture
def client(
    inside: None, settings: Settings, engine: Engine, clock: FixedClock, janus: JanusServer
) -> Iterator[TestClient]:
    with TestClient(create_app(janus_settings(settings, janus), engine, clock)) as client:
        yield client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def base(
    inside: None, settings: Settings, engine: Engine, clock: FixedClock, janus: JanusServer
) -> Iterator[str]:
    """The server over real HTTP inside the namespace (where the browsers and Janus are)."""
    app = create_app(janus_settings(settings, janus), engine, clock)
    with live(app, _free_port()) as url:
        yield url


def book_group(
    engine: Engine,
    clinic: Clinic,
    owner: str = "ng",
    guests: int = 3,
    starts_in: timedelta = timedelta(minutes=1),
) -> UUID:
    """A group appointment starting `starts_in` from now (the real clock's)."""
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine, expire_on_commit=False) as session:
        row = Appointment(
            patient_id=clinic.ids["patient"],
            clinician_id=clinic.ids[owner],
            start=now + starts_in,
            duration_minutes=60,
            kind=AppointmentKind.GROUP,
            status=AppointmentStatus.SCHEDULED,
            created_by_id=clinic.ids["admin"],
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        for position in range(guests):
            session.add(
                AppointmentParticipant(
                    appointment_id=row.id,
                    position=position,
                    name=f"Guest {position + 1}",
                    email=f"guest{position + 1}@example.org",
                )
            )
        session.commit()
        return row.id


def guest_link(engine: Engine, appointment_id: UUID, recipient: int) -> str:
    with Session(engine) as session:
        now = datetime.now(UTC)
        _link, token = patient_links.mint(session, appointment_id, recipient, "copy", now)
        session.commit()
        return token


def staff_join(client: TestClient, clinic: Clinic, user: str, appointment_id: UUID) -> GroupJoin:
    answer = client.post(f"/appointments/{appointment_id}/group-call", headers=clinic.auth(user))
    assert answer.status_code == 200, answer.text
    return GroupJoin.model_validate(answer.json())


def admit_in_store(client: TestClient, token: str) -> None:
    """The clinician's admission of the link's holder, written straight to the server's store
    (tests of other things than admission; tests/server/group_calls/test_admission.py goes
    through the clinician's window and API)."""
    with Session(state_of(cast(FastAPI, client.app)).engine) as session:
        resolved = patient_links.resolve(session, token, datetime.now(UTC), 60)
        assert resolved.appointment is not None and resolved.link is not None
        member = f"guest-{resolved.link.recipient}"
        group_call_controls.admit(session, resolved.appointment.id, [member], datetime.now(UTC))
        session.commit()


def guest_join(client: TestClient, token: str) -> GroupJoin:
    """The link holder's credential: asked once (they wait), admitted, asked again."""
    answer = client.post("/patient/group-call", json={"token": token})
    if answer.status_code == 202:
        assert answer.json()["code"] == "waiting_for_admission", answer.text
        admit_in_store(client, token)
        answer = client.post("/patient/group-call", json={"token": token})
    assert answer.status_code == 200, answer.text
    return GroupJoin.model_validate(answer.json())
