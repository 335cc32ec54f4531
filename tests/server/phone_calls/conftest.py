"""Phone-call fixtures: in the test's network namespace, Janus with its SIP plugin, Kamailio as
the hospital's trunk and registrar, baresip as the patient's phone; a server dialling through
them (SQLite, the real clock), phone appointments, and the desktop's PhoneSession over it."""

import asyncio
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.media.phone_session import PhoneLine
from server.app import create_app
from server.models.appointment import Appointment
from server.models.patient import Patient
from server.models.phone_attempt import PhoneAttempt
from server.settings import Settings
from shared.enums import AppointmentKind, AppointmentStatus
from shared.phone_call_protocol import PhoneCallStarted, PhoneEvent, PhoneEvents
from tests.janus_server import JanusServer, janus_server
from tests.netns import NetNamespace
from tests.polling import wait_until
from tests.server.conftest import Clinic
from tests.server.group_calls import conftest as group_calls
from tests.sip.phone import Phone, sip_phone
from tests.sip.registrar import Registrar, sip_registrar

# The group-call fixtures this module shares (the clinic signed in now, SQLite, the clock).
namespace = group_calls.namespace
clinic = group_calls.clinic
clock = group_calls.clock
database_url = group_calls.database_url
inside = group_calls.inside
janus_settings = group_calls.janus_settings

#: The patient's phone (a London drama number, Ofcom's range for fiction), and the clinic's line.
PATIENT_NUMBER = "+442079460961"
CLINIC_NUMBER = "+442079460000"
RING_SECONDS = 6


@pytest.fixture(scope="module")
def janus(
    namespace: NetNamespace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JanusServer]:
    with janus_server(namespace, tmp_path_factory.mktemp("janus"), sip=True) as server:
        yield server


@pytest.fixture(scope="module")
def registrar(
    namespace: NetNamespace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registrar]:
    password = secrets.token_urlsafe(18)
    with sip_registrar(namespace, tmp_path_factory.mktemp("kamailio"), password) as registrar:
        yield registrar


@pytest.fixture
def phone(namespace: NetNamespace, registrar: Registrar, tmp_path: Path) -> Iterator[Phone]:
    with sip_phone(namespace, tmp_path / "phone", PATIENT_NUMBER, registrar.uri) as phone:
        yield phone


def phone_settings(settings: Settings, janus: JanusServer, registrar: Registrar,
                   **changes: object) -> Settings:
    return janus_settings(
        settings, janus,
        phone_sip_proxy=registrar.uri,
        phone_caller_id=CLINIC_NUMBER,
        phone_ring_seconds=RING_SECONDS,
        **changes,
    )


@pytest.fixture
def client(
    inside: None, settings: Settings, engine: Engine, clock: object, janus: JanusServer,
    registrar: Registrar,
) -> Iterator[TestClient]:
    app = create_app(phone_settings(settings, janus, registrar), engine, clock)  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield client


@pytest.fixture
def janus_gone_client(
    inside: None, settings: Settings, engine: Engine, clock: object, janus: JanusServer,
    registrar: Registrar,
) -> Iterator[TestClient]:
    """A server whose Janus does not answer (nothing listens at its address)."""
    values = phone_settings(settings, janus, registrar, janus_url="http://127.0.0.1:1/janus")
    with TestClient(create_app(values, engine, clock)) as client:  # type: ignore[arg-type]
        yield client


def book_phone(engine: Engine, clinic: Clinic, number: str = PATIENT_NUMBER,
               owner: str = "ng") -> UUID:
    """A phone appointment starting now, its patient reachable at `number`."""
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine, expire_on_commit=False) as session:
        patient = session.get(Patient, clinic.ids["patient"])
        assert patient is not None
        patient.phone = number
        session.add(patient)
        row = Appointment(
            patient_id=clinic.ids["patient"],
            clinician_id=clinic.ids[owner],
            start=now - timedelta(minutes=1),
            duration_minutes=30,
            kind=AppointmentKind.PHONE,
            status=AppointmentStatus.SCHEDULED,
            created_by_id=clinic.ids["admin"],
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.commit()
        return row.id


def attempts_of(engine: Engine, appointment: object) -> list[PhoneAttempt]:
    """The appointment's phone attempts as the server keeps them, oldest first."""
    with Session(engine) as session:
        rows = session.exec(select(PhoneAttempt).where(PhoneAttempt.appointment_id == appointment)
                            .order_by(col(PhoneAttempt.started_at)))
        return list(rows)


def ended_attempt(engine: Engine, appointment: object) -> PhoneAttempt:
    """The appointment's one attempt, once it has ended (its end is written after the event)."""
    wait_until(lambda: [a.ended_at is not None for a in attempts_of(engine, appointment)]
               == [True], timeout=20)
    [attempt] = attempts_of(engine, appointment)
    return attempt


def status_of(engine: Engine, appointment: object) -> str:
    with Session(engine) as session:
        row = session.get(Appointment, appointment)
        assert row is not None
        return str(row.status)


class TestLine(PhoneLine):
    """The desktop's requests, through the test's client (in threads: it is synchronous)."""

    __test__ = False

    def __init__(self, client: TestClient, clinic: Clinic, user: str, appointment: UUID):
        self.client = client
        self.headers = clinic.auth(user)
        self.appointment = appointment

    def _post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        answer = self.client.post(path, json=body, headers=self.headers)
        if answer.status_code >= 400:
            raise Refused(answer.status_code, answer.json())
        return answer.json() if answer.content else {}

    async def dial(self, sdp: str) -> PhoneCallStarted:
        path = f"/appointments/{self.appointment}/phone-call"
        answer = await asyncio.to_thread(self._post, path, {"sdp": sdp})
        return PhoneCallStarted.model_validate(answer)

    async def events(self, call_id: UUID, after: int) -> list[PhoneEvent]:
        def get() -> list[PhoneEvent]:
            answer = self.client.get(
                f"/phone-calls/{call_id}/events", params={"after": after, "wait": 2},
                headers=self.headers,
            )
            assert answer.status_code == 200, answer.text
            return PhoneEvents.model_validate(answer.json()).events

        return await asyncio.to_thread(get)

    async def hang_up(self, call_id: UUID) -> None:
        await asyncio.to_thread(self._post, f"/phone-calls/{call_id}/hangup", {})

    async def keys(self, call_id: UUID, digits: str) -> None:
        await asyncio.to_thread(self._post, f"/phone-calls/{call_id}/keys", {"digits": digits})

    async def hold(self, call_id: UUID, hold: bool) -> None:
        await asyncio.to_thread(self._post, f"/phone-calls/{call_id}/hold", {"hold": hold})


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, object]):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
