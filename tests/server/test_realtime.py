"""The realtime WebSocket: sign-in by first message, hello with the cursor, change events."""

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.server.api_helpers import Api
from tests.server.conftest import Clinic
from tests.server.realtime_helpers import receive


def _auth(token: str) -> str:
    return json.dumps({"type": "auth", "access_token": token})


def test_changes_are_announced_with_the_cursor(app: FastAPI, clinic: Clinic) -> None:
    with TestClient(app) as client:
        api = Api(client, clinic)
        with client.websocket_connect("/realtime") as socket:
            socket.send_text(_auth(clinic.tokens["ng"]))
            hello: dict[str, Any] = receive(socket)
            assert hello["type"] == "hello"
            socket.send_text(json.dumps({"type": "ping"}))
            assert receive(socket) == {"type": "pong"}

            api.book("clerk", "ng")
            event = receive(socket)
            assert event["type"] == "changes"
            assert event["cursor"] > hello["cursor"]
            pulled = api.call("ng", "GET", f"/sync/pull?protocol=1&cursor={hello['cursor']}", 200)
            assert pulled["cursor"] == event["cursor"]

            # A refused write commits no change and announces nothing; the next one does.
            api.call("clerk", "POST", "/patients", {"name": ""}, expect=422)
            api.call("clerk", "POST", "/patients", {"name": "Bo"}, expect=201)
            assert receive(socket)["cursor"] > event["cursor"]


@pytest.mark.parametrize(
    ("first_message", "code"),
    [
        ("hello", 4408),
        (json.dumps({"type": "auth", "access_token": "forged"}), 4401),
        ("admin", 4403),
    ],
)
def test_sign_in_is_required(app: FastAPI, clinic: Clinic, first_message: str, code: int) -> None:
    if first_message == "admin":
        first_message = _auth(clinic.tokens["admin"])
    with TestClient(app) as client, client.websocket_connect("/realtime") as socket:
        socket.send_text(first_message)
        with pytest.raises(WebSocketDisconnect) as closed:
            receive(socket)
        assert closed.value.code == code
