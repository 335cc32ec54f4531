"""Two server processes on one PostgreSQL: changes, presence and signals reach both's desktops."""

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from websockets.sync.client import ClientConnection, connect

from server.services.presence import publish_presence
from shared.realtime_protocol import PresenceState
from tests.server.conftest import NOW, Clinic
from tests.server.conftest import PASSWORD as CLINIC_PASSWORD
from tests.server.server_process import create_user, empty_database, served

PASSWORD = "a long enough password"


def test_events_fan_out_between_processes(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("one SQLite file is served by one process; fan-out is PostgreSQL's job")
    url = empty_database(database_url)
    created = create_user(url, "clerk", "clerk", PASSWORD)
    assert created.returncode == 0, created.stderr
    with served(url) as first, served(url) as second:
        login = httpx.post(f"{first}/auth/login", json={"username": "clerk", "password": PASSWORD})
        token = login.json()["access_token"]
        websocket_url = second.replace("http://", "ws://") + "/realtime"
        with connect(websocket_url, open_timeout=10) as socket:
            socket.send(json.dumps({"type": "auth", "access_token": token}))
            hello = json.loads(socket.recv(timeout=10))
            assert hello["type"] == "hello"
            made = httpx.post(
                f"{first}/patients",
                json={"name": "Ada"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert made.status_code == 201
            event = json.loads(socket.recv(timeout=10))
            assert event["type"] == "changes"
            assert event["cursor"] > hello["cursor"]


@contextmanager
def _desktop(base: str, username: str) -> Iterator[ClientConnection]:
    credentials = {"username": username, "password": CLINIC_PASSWORD}
    token = httpx.post(f"{base}/auth/login", json=credentials).json()["access_token"]
    with connect(base.replace("http://", "ws://") + "/realtime", open_timeout=10) as socket:
        socket.send(json.dumps({"type": "auth", "access_token": token}))
        assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        yield socket


def test_presence_and_signals_fan_out_between_processes(
    database_url: str, engine: Engine, clinic: Clinic
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("one SQLite file is served by one process; fan-out is PostgreSQL's job")
    appointment = clinic.ids["ng_appointment"]
    with served(database_url) as first, served(database_url) as second:
        with _desktop(first, "ng") as ng, _desktop(second, "clerk") as clerk:
            # The waiting-room page may run in a third process: this one.
            with Session(engine) as session:
                publish_presence(session, appointment, PresenceState.ENTERED, NOW)
                session.commit()
            for socket in (ng, clerk):
                event = json.loads(socket.recv(timeout=10))
                assert (event["type"], event["appointment_id"]) == ("presence", str(appointment))
            # An offer larger than one NOTIFY travels in parts.
            offer = {"sdp": "a=x\r\n" * 4000}
            message = {"type": "signal", "appointment_id": str(appointment), "kind": "offer"}
            ng.send(json.dumps(message | {"payload": offer}))
            relayed = json.loads(clerk.recv(timeout=10))
            assert (relayed["kind"], relayed["payload"]) == ("offer", offer)
