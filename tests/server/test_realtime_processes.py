"""Two server processes on one PostgreSQL: a change made on one reaches desktops on the other."""

import json

import httpx
import pytest
from websockets.sync.client import connect

from tests.server.server_process import empty_database, run_cli, served

PASSWORD = "a long enough password"


def test_events_fan_out_between_processes(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("one SQLite file is served by one process; fan-out is PostgreSQL's job")
    url = empty_database(database_url)
    created = run_cli(
        "create-user",
        "--database",
        url,
        "--username",
        "clerk",
        "--role",
        "clerk",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
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
