"""Admission to a group call: a participant waits (202) and is listed while their page is open,
the clinician admits one or all, the page hears it on its socket and is given the credential;
admitted once is admitted for good (a restart too); locked rooms and removed people refuse."""

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.testclient import WebSocketTestSession

from server.app import create_app
from server.settings import Settings
from shared.clock import FixedClock
from tests.janus_server import JanusServer
from tests.polling import wait_until
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_link, janus_settings, staff_join


def ask(client: TestClient, token: str) -> tuple[int, dict[str, Any]]:
    answer = client.post("/patient/group-call", json={"token": token})
    return answer.status_code, answer.json()


def waiting(client: TestClient, clinic: Clinic, appointment: UUID) -> list[tuple[str, str]]:
    answer = client.get(
        f"/appointments/{appointment}/group-call/waiting", headers=clinic.auth("ng")
    )
    assert answer.status_code == 200, answer.text
    return [(row["participant"], row["display"]) for row in answer.json()["waiting"]]


def admit(
    client: TestClient, clinic: Clinic, appointment: UUID, *who: str
) -> tuple[int, dict[str, Any]]:
    answer = client.post(
        f"/appointments/{appointment}/group-call/admit",
        json={"participants": list(who)},
        headers=clinic.auth("ng"),
    )
    return answer.status_code, answer.json()


@pytest.fixture
def pages(client: TestClient) -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def open_page(client: TestClient, pages: ExitStack, token: str) -> WebSocketTestSession:
    """A participant's waiting-room page: its socket, signed in with the link."""
    socket = pages.enter_context(client.websocket_connect("/patient/socket"))
    socket.send_json({"type": "auth", "token": token})
    assert socket.receive_json()["type"] == "hello"
    return socket


def next_event(socket: WebSocketTestSession, kind: str) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = socket.receive_json()
        if event["type"] == kind:
            return event


def test_participants_wait_until_admitted_one_or_all(
    client: TestClient, clinic: Clinic, engine: Engine, pages: ExitStack
) -> None:
    appointment = book_group(engine, clinic)
    links = {n: guest_link(engine, appointment, n) for n in (1, 2, 3)}
    sockets = {n: open_page(client, pages, links[n]) for n in (1, 2, 3)}
    for n in (1, 2):
        status, body = ask(client, links[n])
        assert (status, body["code"]) == (202, "waiting_for_admission")
        assert "clinician will let you" in body["message"]
    # Guest 3's page is open but has not asked to join yet: not listed.
    assert waiting(client, clinic, appointment) == [("guest-1", "Guest 1"), ("guest-2", "Guest 2")]
    # The clinician is never asked to wait.
    assert staff_join(client, clinic, "ng", appointment).role == "staff"

    assert admit(client, clinic, appointment, "guest-1") == (200, {"admitted": ["guest-1"]})
    assert next_event(sockets[1], "admission") == {"type": "admission"}
    status, body = ask(client, links[1])
    assert (status, body["id"], body["display"]) == (200, "guest-1", "Guest 1")
    assert waiting(client, clinic, appointment) == [("guest-2", "Guest 2")]
    # Guest 2 still waits, and hears that someone was let in: asking again, it still waits.
    assert next_event(sockets[2], "admission") == {"type": "admission"}
    assert ask(client, links[2])[0] == 202

    assert ask(client, links[3])[0] == 202
    status, body = admit(client, clinic, appointment, "guest-2", "guest-3")
    assert (status, body) == (200, {"admitted": ["guest-2", "guest-3"]})
    assert waiting(client, clinic, appointment) == []
    for n in (2, 3):
        assert ask(client, links[n])[0] == 200


def test_admitted_once_is_not_asked_again_after_a_restart(
    client: TestClient,
    clinic: Clinic,
    engine: Engine,
    settings: Settings,
    clock: FixedClock,
    janus: JanusServer,
    pages: ExitStack,
) -> None:
    appointment = book_group(engine, clinic)
    token = guest_link(engine, appointment, 1)
    assert ask(client, token)[0] == 202
    assert admit(client, clinic, appointment, "guest-1")[0] == 200
    # A new server process on the same database: the admission held.
    with TestClient(create_app(janus_settings(settings, janus), engine, clock)) as restarted:
        assert ask(restarted, token)[0] == 200
        # A fresh link for the same person is the same person.
        assert ask(restarted, guest_link(engine, appointment, 1))[0] == 200


def test_a_page_that_closed_leaves_the_list(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    appointment = book_group(engine, clinic)
    token = guest_link(engine, appointment, 1)
    with client.websocket_connect("/patient/socket") as socket:
        socket.send_json({"type": "auth", "token": token})
        socket.receive_json()
        assert ask(client, token)[0] == 202
        assert waiting(client, clinic, appointment) == [("guest-1", "Guest 1")]
    # After the reload grace the waiting room forgets the page; the list follows.
    wait_until(lambda: waiting(client, clinic, appointment) == [], what="guest 1 off the list")


def test_locked_rooms_and_removed_people_are_not_admitted(
    client: TestClient, clinic: Clinic, engine: Engine, pages: ExitStack
) -> None:
    appointment = book_group(engine, clinic)
    first, second = guest_link(engine, appointment, 1), guest_link(engine, appointment, 2)
    page = open_page(client, pages, second)
    assert ask(client, first)[0] == 202
    assert ask(client, second)[0] == 202
    locked = client.post(
        f"/appointments/{appointment}/group-call/lock",
        json={"locked": True},
        headers=clinic.auth("ng"),
    )
    assert locked.status_code == 200
    status, body = admit(client, clinic, appointment, "guest-1")
    assert (status, body["code"]) == (409, "room_locked")
    status, body = ask(client, first)
    assert (status, body["code"]) == (423, "room_locked")
    client.post(
        f"/appointments/{appointment}/group-call/lock",
        json={"locked": False},
        headers=clinic.auth("ng"),
    )
    # A waiting person removed by the clinician stays out: not admitted, not let in.
    removed = client.post(
        f"/appointments/{appointment}/group-call/participants/guest-2/remove",
        headers=clinic.auth("ng"),
    )
    assert removed.status_code == 200, removed.text
    # Their waiting page hears it at once, asks again and is told in words.
    assert next_event(page, "admission") == {"type": "admission"}
    status, body = admit(client, clinic, appointment, "guest-2")
    assert (status, body["code"]) == (409, "removed")
    status, body = ask(client, second)
    assert (status, body["code"]) == (403, "removed")
    # Nobody of that name asked; a bad body; someone who may not see the appointment.
    assert admit(client, clinic, appointment, "guest-3")[0] == 404
    assert admit(client, clinic, appointment)[0] == 422
    other = client.post(
        f"/appointments/{appointment}/group-call/admit",
        json={"participants": ["guest-1"]},
        headers=clinic.auth("lee"),
    )
    assert other.status_code == 403


def test_those_still_waiting_hear_that_the_call_ended(
    client: TestClient, clinic: Clinic, engine: Engine, pages: ExitStack
) -> None:
    appointment = book_group(engine, clinic)
    token = guest_link(engine, appointment, 1)
    page = open_page(client, pages, token)
    assert ask(client, token)[0] == 202
    staff_join(client, clinic, "ng", appointment)
    ended = client.post(
        f"/appointments/{appointment}/group-call/end", headers=clinic.auth("ng")
    )
    assert ended.status_code == 200, ended.text
    assert next_event(page, "admission") == {"type": "admission"}
    status, body = ask(client, token)
    assert (status, body["code"]) == (410, "call_ended")
