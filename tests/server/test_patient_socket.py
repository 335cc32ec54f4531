"""The waiting-room socket: presence per appointment (not per tab), heartbeat, messages, signals."""

import json
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from server.app import create_app
from server.settings import Settings
from shared.clock import FixedClock
from shared.realtime_protocol import MAX_CLIENT_FRAME
from tests.server.api_helpers import Api
from tests.server.conftest import Clinic
from tests.server.mail_helpers import token_of
from tests.server.realtime_helpers import receive, sign_in


@pytest.fixture
def quick_app(settings: Settings, engine: Engine, clock: FixedClock) -> FastAPI:
    """No pause before "left" when a page closes: quick tests."""
    quick = settings.model_copy(update={"patient_leave_grace_seconds": 0.0})
    return create_app(quick, engine, clock)


@pytest.fixture
def impatient_app(settings: Settings, engine: Engine, clock: FixedClock) -> FastAPI:
    """Heartbeats in fractions of a second."""
    quick = settings.model_copy(
        update={"patient_heartbeat_seconds": 0.2, "patient_heartbeat_timeout_seconds": 0.6}
    )
    return create_app(quick, engine, clock)


def _link(api: Api, appointment: str = "ng_appointment") -> str:
    path = f"/appointments/{api.id(appointment)}/patient-link"
    return token_of(api.call("clerk", "POST", path, {}, expect=201)["url"])


def _enter(socket: WebSocketTestSession, token: str) -> dict[str, Any]:
    socket.send_text(json.dumps({"type": "auth", "token": token}))
    hello = receive(socket)
    assert hello["type"] == "hello"
    return hello


def _next(socket: WebSocketTestSession, kind: str) -> dict[str, Any]:
    """The next event of type `kind`, skipping the heartbeat's pings (answered)."""
    while True:
        event = receive(socket)
        if event["type"] == "ping":
            socket.send_text(json.dumps({"type": "pong"}))
            continue
        assert event["type"] == kind, event
        return event


def _presence(desk: WebSocketTestSession) -> str:
    event = receive(desk)
    assert event["type"] == "presence", event
    return str(event["state"])


def test_two_tabs_are_one_patient_and_closing_both_is_leaving(
    quick_app: FastAPI, clinic: Clinic, clock: FixedClock
) -> None:
    with TestClient(quick_app) as client, ExitStack() as stack:
        api = Api(client, clinic)
        token = _link(api)
        desk = stack.enter_context(client.websocket_connect("/realtime"))
        sign_in(desk, clinic.tokens["ng"])
        first = stack.enter_context(client.websocket_connect("/patient/socket"))
        hello = _enter(first, token)
        # A day early: the clinic sees them waiting at 08:55 tomorrow (start - 5 minutes).
        assert hello == {
            "type": "hello",
            "waited_seconds": 0,
            "heartbeat_seconds": 5.0,
            "early_seconds": 24 * 3600 + 55 * 60,
            "now": "2026-11-26T08:00:00Z",
        }
        event = receive(desk)
        assert event == {
            "type": "presence",
            "appointment_id": str(clinic.ids["ng_appointment"]),
            "state": "entered",
            "at": "2026-11-26T08:00:00Z",
            "people": 1,
        }
        # A second tab with the same link (or a reload) is the same patient, waiting since the
        # first tab came (the status rule's count, as the desktop shows it).
        clock.advance(90)
        second = stack.enter_context(client.websocket_connect("/patient/socket"))
        assert _enter(second, token)["waited_seconds"] == 90
        first.close()
        # Closing one of two tabs is no leaving: the next presence is the second tab's exit.
        api.call("clerk", "POST", "/patients", {"name": "Bo"}, expect=201)
        assert receive(desk)["type"] == "changes"
        second.close()
        assert _presence(desk) == "left"


def _people(desk: WebSocketTestSession) -> tuple[str, int]:
    event = receive(desk)
    assert event["type"] == "presence", event
    return str(event["state"]), int(event["people"])


def test_a_groups_people_are_counted_one_each_as_they_come_and_go(
    quick_app: FastAPI, clinic: Clinic
) -> None:
    with TestClient(quick_app) as client, ExitStack() as stack:
        api = Api(client, clinic)
        people = [{"name": f"Guest {n}", "email": f"guest{n}@example.org"} for n in (1, 2)]
        booked = api.book(
            "clerk", "ng", location_id=str(api.id("location")), kind="group", participants=people
        )
        path = f"/appointments/{booked['id']}/patient-link"
        tokens = [
            token_of(api.call("clerk", "POST", path, {"recipient": n}, expect=201)["url"])
            for n in (0, 1, 2)
        ]
        desk = stack.enter_context(client.websocket_connect("/realtime"))
        sign_in(desk, clinic.tokens["ng"])
        first = stack.enter_context(client.websocket_connect("/patient/socket"))
        _enter(first, tokens[1])
        assert _people(desk) == ("entered", 1)
        second = stack.enter_context(client.websocket_connect("/patient/socket"))
        _enter(second, tokens[2])
        assert _people(desk) == ("entered", 2)
        # A second tab of someone already there is no one more.
        again = stack.enter_context(client.websocket_connect("/patient/socket"))
        _enter(again, tokens[2])
        patient = stack.enter_context(client.websocket_connect("/patient/socket"))
        _enter(patient, tokens[0])
        assert _people(desk) == ("entered", 3)
        # A desktop signing in now hears the count as it is.
        late = stack.enter_context(client.websocket_connect("/realtime"))
        sign_in(late, clinic.tokens["ng"])
        assert _people(late) == ("entered", 3)

        first.close()
        assert _people(desk) == ("entered", 2)
        again.close()  # guest 2 still has a tab open
        patient.close()
        assert _people(desk) == ("entered", 1)
        second.close()
        assert _people(desk) == ("left", 0)


def test_a_silent_page_is_gone_after_the_heartbeat_timeout(
    impatient_app: FastAPI, clinic: Clinic
) -> None:
    with TestClient(impatient_app) as client, ExitStack() as stack:
        token = _link(Api(client, clinic))
        desk = stack.enter_context(client.websocket_connect("/realtime"))
        sign_in(desk, clinic.tokens["ng"])
        page = stack.enter_context(client.websocket_connect("/patient/socket"))
        _enter(page, token)
        assert _presence(desk) == "entered"
        # The page never answers the server's pings (a lost network): closed, and "left".
        assert receive(page)["type"] == "ping"
        assert _presence(desk) == "left"
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                receive(page)
        assert closed.value.code == 4408


def test_messages_and_signals_go_between_the_clinician_and_the_page(
    quick_app: FastAPI, clinic: Clinic
) -> None:
    with TestClient(quick_app) as client, ExitStack() as stack:
        api = Api(client, clinic)
        appointment = str(clinic.ids["ng_appointment"])
        token = _link(api)
        desk = stack.enter_context(client.websocket_connect("/realtime"))
        sign_in(desk, clinic.tokens["ng"])
        page = stack.enter_context(client.websocket_connect("/patient/socket"))
        _enter(page, token)
        assert _presence(desk) == "entered"

        path = f"/appointments/{appointment}/waiting-message"
        api.call("ng", "POST", path, {"text": "Running  10 minutes\nlate"}, expect=202)
        message = _next(page, "message")
        assert message == {
            "type": "message",
            "text": "Running 10 minutes late",
            "at": "2026-11-26T08:00:00Z",
        }
        assert api.call("ng", "POST", path, {"text": "x" * 281}, expect=422)["fields"]
        api.call("lee", "POST", path, {"text": "Hello"}, expect=403)
        api.call("admin", "POST", path, {"text": "Hello"}, expect=403)
        # A reload shows the clinician's messages again.
        again = stack.enter_context(client.websocket_connect("/patient/socket"))
        _enter(again, token)
        assert _next(again, "message")["text"] == "Running 10 minutes late"
        again.close()

        offer = {
            "type": "signal",
            "appointment_id": appointment,
            "kind": "offer",
            "payload": {"sdp": "v=0", "type": "offer"},
        }
        desk.send_text(json.dumps(offer))
        relayed = _next(page, "signal")
        assert (relayed["kind"], relayed["payload"], relayed["sender"]) == (
            "offer",
            {"sdp": "v=0", "type": "offer"},
            "desktop",
        )
        answer = {"type": "signal", "kind": "answer", "payload": {"sdp": "v=0", "type": "answer"}}
        page.send_text(json.dumps(answer))
        back = receive(desk)
        assert back == {
            "type": "signal",
            "appointment_id": appointment,
            "kind": "answer",
            "payload": {"sdp": "v=0", "type": "answer"},
            "sender": "patient",
            "sender_user_id": None,
        }
        page.send_text(json.dumps({"type": "signal", "kind": "wave"}))
        assert _next(page, "error")["code"] == "invalid"
        # A page answers calls; it may not start one at every desktop that sees the appointment.
        page.send_text(json.dumps({"type": "signal", "kind": "offer", "payload": {"sdp": "x"}}))
        refused = _next(page, "error")
        assert (refused["code"], refused["refused"]) == ("forbidden", "signal")
        page.send_text(json.dumps({"type": "signal", "kind": "hangup"}))
        assert receive(desk)["kind"] == "hangup"  # the offer was never relayed


def test_a_page_message_past_the_frame_limit_is_refused_and_the_page_stays(
    quick_app: FastAPI, clinic: Clinic
) -> None:
    with TestClient(quick_app) as client:
        token = _link(Api(client, clinic))
        with client.websocket_connect("/patient/socket") as page:
            _enter(page, token)
            page.send_text(json.dumps({"type": "ping", "pad": "x" * MAX_CLIENT_FRAME}))
            refused = _next(page, "error")
            assert refused["code"] == "too_large"
            assert str(MAX_CLIENT_FRAME) in refused["message"]
            page.send_text(json.dumps({"type": "ping"}))
            assert _next(page, "pong") == {"type": "pong"}


def test_cancelling_tells_the_open_page_and_closes_the_link(
    quick_app: FastAPI, clinic: Clinic
) -> None:
    with TestClient(quick_app) as client, ExitStack() as stack:
        api = Api(client, clinic)
        booked = api.book("clerk", "ng")
        path = f"/appointments/{booked['id']}"
        token = token_of(api.call("clerk", "POST", f"{path}/patient-link", {}, expect=201)["url"])
        page = stack.enter_context(client.websocket_connect("/patient/socket"))
        _enter(page, token)
        api.call("clerk", "POST", f"{path}/cancel", {"reason": "ill", "base_version": 1}, 200)
        assert _next(page, "cancelled")["message"] == "This appointment has been cancelled."
        with client.websocket_connect("/patient/socket") as late:
            late.send_text(json.dumps({"type": "auth", "token": token}))
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(late)
            assert closed.value.code == 4412


@pytest.mark.parametrize(
    ("first_message", "code"),
    [
        ({"type": "auth", "token": "not-a-link"}, 4404),
        ({"type": "ping"}, 4408),
        ("not json", 4408),
    ],
)
def test_a_socket_without_a_good_link_is_closed(
    quick_app: FastAPI, clinic: Clinic, first_message: Any, code: int
) -> None:
    with TestClient(quick_app) as client, client.websocket_connect("/patient/socket") as page:
        page.send_text(
            first_message if isinstance(first_message, str) else json.dumps(first_message)
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            receive(page)
        assert closed.value.code == code


def test_an_expired_link_is_closed_with_its_own_code(
    quick_app: FastAPI, clinic: Clinic, clock: FixedClock
) -> None:
    with TestClient(quick_app) as client:
        token = _link(Api(client, clinic))
        clock.advance(3 * 86400)
        with client.websocket_connect("/patient/socket") as page:
            page.send_text(json.dumps({"type": "auth", "token": token}))
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(page)
            assert closed.value.code == 4410
