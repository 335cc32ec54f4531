"""Call signalling: relayed to the appointment's other parties; bad messages get error events."""

import asyncio
import json
from contextlib import ExitStack
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.app_state import state_of
from shared.realtime_protocol import MAX_CLIENT_FRAME, MAX_SIGNAL_PAYLOAD
from tests.server.conftest import Clinic
from tests.server.realtime_helpers import ping, receive, sign_in


def _signal(appointment: Any, kind: str = "offer", **payload: Any) -> str:
    return json.dumps(
        {"type": "signal", "appointment_id": str(appointment), "kind": kind, "payload": payload}
    )


def test_a_signal_reaches_the_other_desktops_and_the_patient_hook(
    app: FastAPI, clinic: Clinic
) -> None:
    hub = state_of(app).hub
    with TestClient(app) as client, ExitStack() as stack:
        names = ["ng", "ng_other_desktop", "clerk", "lee"]
        sockets = {n: stack.enter_context(client.websocket_connect("/realtime")) for n in names}
        for name, socket in sockets.items():
            sign_in(socket, clinic.tokens[name.removesuffix("_other_desktop")])
        portal = client.portal
        assert portal is not None
        patient = portal.call(hub.connect_patient, clinic.ids["ng_appointment"])

        sdp = {"sdp": "v=0\r\n" + "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n" * 200}
        sockets["ng"].send_text(_signal(clinic.ids["ng_appointment"], "offer", **sdp))
        expected = {
            "type": "signal",
            "appointment_id": str(clinic.ids["ng_appointment"]),
            "kind": "offer",
            "payload": sdp,
            "sender": "desktop",
            "sender_user_id": str(clinic.ids["ng"]),
        }
        assert receive(sockets["clerk"]) == expected
        assert receive(sockets["ng_other_desktop"]) == expected

        async def patient_message() -> str:
            return await asyncio.wait_for(patient.queue.get(), 10)

        assert json.loads(portal.call(patient_message)) == expected
        portal.call(hub.disconnect, patient)
        # Not echoed to the sender, not sent to Dr Lee: their next event is a later one.
        sockets["clerk"].send_text(_signal(clinic.ids["ng_appointment"], "hangup"))
        assert receive(sockets["ng"])["kind"] == "hangup"
        client.post("/patients", json={"name": "Bo"}, headers=clinic.auth("clerk"))
        assert receive(sockets["lee"])["type"] == "changes"


BAD_MESSAGES = [
    ("not json", "{offer", "invalid", None),
    ("not an object", "[1, 2]", "invalid", None),
    ("nested too deep", "[" * 20_000, "invalid", None),
    ("unknown type", json.dumps({"type": "dance"}), "invalid", "dance"),
    (
        "missing kind",
        json.dumps({"type": "signal", "appointment_id": str(uuid4())}),
        "invalid",
        "signal",
    ),
    ("bad kind", _signal(uuid4(), "shout"), "invalid", "signal"),
    (
        "bad id",
        json.dumps({"type": "signal", "appointment_id": "x", "kind": "offer"}),
        "invalid",
        "signal",
    ),
    (
        "payload not an object",
        json.dumps(
            {"type": "signal", "appointment_id": str(uuid4()), "kind": "offer", "payload": [1]}
        ),
        "invalid",
        "signal",
    ),
    ("oversize payload", _signal(uuid4(), sdp="x" * MAX_SIGNAL_PAYLOAD), "too_large", "signal"),
    (
        "oversize frame",
        json.dumps({"type": "ping", "pad": "x" * MAX_CLIENT_FRAME}),
        "too_large",
        None,
    ),
    ("unknown appointment", _signal(uuid4()), "not_found", "signal"),
    ("someone else's appointment", "lee_appointment", "forbidden", "signal"),
]


@pytest.mark.parametrize(
    ("text", "code", "refused"),
    [row[1:] for row in BAD_MESSAGES],
    ids=[row[0] for row in BAD_MESSAGES],
)
def test_a_bad_message_gets_an_error_and_the_socket_stays_open(
    app: FastAPI, clinic: Clinic, text: str, code: str, refused: str | None
) -> None:
    if text == "lee_appointment":
        text = _signal(clinic.ids["lee_appointment"])
    with TestClient(app) as client, client.websocket_connect("/realtime") as socket:
        sign_in(socket, clinic.tokens["ng"])
        socket.send_text(text)
        error = receive(socket)
        assert error["type"] == "error"
        assert (error["code"], error["refused"]) == (code, refused)
        assert error["message"]
        assert "Traceback" not in error["message"] and "SELECT" not in error["message"]
        ping(socket)


def test_a_second_taker_is_refused_until_the_call_ends(app: FastAPI, clinic: Clinic) -> None:
    """Dr Okafor's appointment: Okafor calls first; Dr Ng (a delegate who sees it) is refused,
    with who has it; after the hangup the call is free again."""
    appointment = clinic.ids["okafor_appointment"]
    with TestClient(app) as client, ExitStack() as stack:
        okafor = stack.enter_context(client.websocket_connect("/realtime"))
        ng = stack.enter_context(client.websocket_connect("/realtime"))
        sign_in(okafor, clinic.tokens["okafor"])
        sign_in(ng, clinic.tokens["ng"])
        okafor.send_text(_signal(appointment, "offer", sdp="v=0"))
        assert receive(ng)["kind"] == "offer"  # Ng's desktop sees the call start
        ng.send_text(_signal(appointment, "offer", sdp="v=0"))
        refused = receive(ng)
        assert refused == {
            "type": "error", "code": "call_taken", "refused": "signal",
            "message": "Okafor has already started this call.",
        }
        okafor.send_text(_signal(appointment, "hangup", reason="done"))
        assert receive(ng)["kind"] == "hangup"
        ng.send_text(_signal(appointment, "offer", sdp="v=0"))
        assert receive(okafor)["kind"] == "offer"  # free again: Ng's call goes through
