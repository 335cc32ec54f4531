"""Group calls on a real Janus: the server creates an appointment's rooms and mints join
credentials; a credential opens its own appointment's rooms and no other; bad states say why."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from server.app import create_app
from server.janus.client import JanusClient
from server.models.appointment import Appointment
from server.settings import Settings
from shared.clock import FixedClock
from shared.enums import AppointmentStatus
from tests.janus_peer import JanusHttpPeer, JanusRefused
from tests.janus_server import JanusServer
from tests.polling import wait_until
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import (
    book_group,
    guest_join,
    guest_link,
    janus_settings,
    staff_join,
)

#: VideoRoom's and AudioBridge's "not on the allowed list" errors.
UNAUTHORIZED = {433, 489}


def test_staff_and_guests_join_their_rooms_and_see_each_other(
    client: TestClient, clinic: Clinic, engine: Engine, janus: JanusServer
) -> None:
    appointment = book_group(engine, clinic)
    clinician = staff_join(client, clinic, "ng", appointment)
    guest = guest_join(client, guest_link(engine, appointment, 2))
    assert clinician.room == guest.room
    assert (clinician.role, clinician.display) == ("staff", "Ng")
    assert (guest.role, guest.display, guest.id) == ("guest", "Guest 2", "guest-2")
    assert guest.janus_url == janus.ws_url
    assert clinician.join_token != guest.join_token
    # Nothing the server keeps to itself travels in an answer.
    for credential in (clinician, guest):
        text = credential.model_dump_json()
        for secret in (janus.config.api_secret, janus.config.room_key, janus.config.token_secret):
            assert secret not in text
        assert janus.url not in text

    first = JanusHttpPeer(janus.url, clinician.janus_token)
    second = JanusHttpPeer(janus.url, guest.janus_token)
    try:
        first.join(clinician)
        second.join(guest)
        video = first.attach("janus.plugin.videoroom")
        listed = first.message(video, {"request": "listparticipants", "room": clinician.room})[
            "participants"
        ]
        assert {p["id"] for p in listed} == {clinician.id, guest.id}
    finally:
        first.close()
        second.close()


def test_a_credential_never_opens_another_appointments_room(
    client: TestClient, clinic: Clinic, engine: Engine, janus: JanusServer
) -> None:
    mine = book_group(engine, clinic)
    other = book_group(engine, clinic, owner="okafor")
    guest = guest_join(client, guest_link(engine, mine, 1))
    other_room = staff_join(client, clinic, "okafor", other).room
    assert other_room != guest.room
    peer = JanusHttpPeer(janus.url, guest.janus_token)
    try:
        for plugin in ("janus.plugin.videoroom", "janus.plugin.audiobridge"):
            handle = peer.attach(plugin)
            body = {"request": "join", "room": other_room, "id": "x", "token": guest.join_token}
            if plugin.endswith("videoroom"):
                body["ptype"] = "publisher"
            with pytest.raises(JanusRefused) as refused:
                peer.message(handle, body)
            assert refused.value.code in UNAUTHORIZED
            # Without a join token at all, no better.
            with pytest.raises(JanusRefused):
                peer.message(handle, {k: v for k, v in body.items() if k != "token"})
        # Nor can a participant make rooms of their own: that takes the server's room key.
        handle = peer.attach("janus.plugin.videoroom")
        with pytest.raises(JanusRefused):
            peer.message(handle, {"request": "create", "room": "mine", "is_private": False})
    finally:
        peer.close()
    # A Janus token that is forged, or for another plugin, opens nothing.
    forged = guest.janus_token[:-4] + "AAA="
    with pytest.raises(JanusRefused):
        JanusHttpPeer(janus.url, forged)


def test_janus_restarting_loses_the_rooms_and_the_next_credential_brings_them_back(
    client: TestClient, clinic: Clinic, engine: Engine, janus: JanusServer
) -> None:
    appointment = book_group(engine, clinic)
    guest = guest_join(client, guest_link(engine, appointment, 1))
    janus.restart()
    peer = JanusHttpPeer(janus.url, guest.janus_token)  # signed: still valid after a restart
    try:
        with pytest.raises(JanusRefused) as gone:
            peer.join(guest)
        assert gone.value.code == 426  # the rooms went with the old Janus
        # The next credential asked for (here the clinician's) creates the same rooms again.
        assert staff_join(client, clinic, "ng", appointment).room == guest.room
        again = guest_join(client, guest_link(engine, appointment, 1))
        assert (again.room, again.join_token) == (guest.room, guest.join_token)
        peer.join(guest)
    finally:
        peer.close()


def test_who_may_join_and_when(client: TestClient, clinic: Clinic, engine: Engine) -> None:
    appointment = book_group(engine, clinic)
    url = f"/appointments/{appointment}/group-call"
    assert client.post(url, headers=clinic.auth("lee")).status_code == 403
    assert client.post(url, headers=clinic.auth("admin")).status_code == 403
    assert client.post(url).status_code == 401
    assert staff_join(client, clinic, "clerk", appointment).role == "staff"
    video = client.post(
        f"/appointments/{clinic.ids['ng_appointment']}/group-call", headers=clinic.auth("ng")
    )
    assert (video.status_code, video.json()["code"]) == (409, "not_group")
    unknown = client.post("/patient/group-call", json={"token": "x" * 40})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_link")
    past = book_group(engine, clinic, starts_in=-timedelta(hours=3))
    over = client.post(f"/appointments/{past}/group-call", headers=clinic.auth("ng"))
    assert (over.status_code, over.json()["code"]) == (410, "call_over")
    token = guest_link(engine, past, 1)
    assert client.post("/patient/group-call", json={"token": token}).status_code == 410
    with Session(engine) as session:
        row = session.get(Appointment, appointment)
        assert row is not None
        row.status = AppointmentStatus.CANCELLED
        session.add(row)
        session.commit()
    closed = client.post(url, headers=clinic.auth("ng"))
    assert (closed.status_code, closed.json()["code"]) == (409, "call_closed")


def test_janus_down_or_not_set_up_is_said_in_words(
    inside: None,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    clinic: Clinic,
    janus: JanusServer,
) -> None:
    appointment = book_group(engine, clinic)
    url = f"/appointments/{appointment}/group-call"
    with TestClient(create_app(settings, engine, clock)) as off:
        answer = off.post(url, headers=clinic.auth("ng"))
    assert (answer.status_code, answer.json()["code"]) == (503, "group_calls_off")
    assert "not set up" in answer.json()["message"]
    elsewhere = janus_settings(settings, janus, janus_url="http://127.0.0.1:9/janus")
    with TestClient(create_app(elsewhere, engine, clock)) as down:
        answer = down.post(url, headers=clinic.auth("ng"))
    assert (answer.status_code, answer.json()["code"]) == (503, "sfu_unreachable")
    assert "not answering" in answer.json()["message"]
    wrong_key = janus_settings(settings, janus, janus_room_key="not-the-room-key-at-all")
    with TestClient(create_app(wrong_key, engine, clock)) as refused:
        answer = refused.post(url, headers=clinic.auth("ng"))
    assert (answer.status_code, answer.json()["code"]) == (502, "sfu_refused")


def room_exists(janus: JanusServer, room: str) -> bool:
    """Asked with the server's own API secret, as only the server can."""
    client = JanusClient(janus.url, janus.config.api_secret)
    with client.session() as session:
        found = []
        for plugin in ("janus.plugin.videoroom", "janus.plugin.audiobridge"):
            handle = session.attach(plugin)
            found.append(session.request(handle, {"request": "exists", "room": room})["exists"])
        return all(found)


def test_cancelling_the_appointment_closes_its_rooms_and_sends_everyone_away(
    client: TestClient, clinic: Clinic, engine: Engine, janus: JanusServer
) -> None:
    appointment = book_group(engine, clinic)
    kept = book_group(engine, clinic)
    guest = guest_join(client, guest_link(engine, appointment, 1))
    other = staff_join(client, clinic, "ng", kept)
    assert room_exists(janus, guest.room) and room_exists(janus, other.room)
    cancel = client.post(
        f"/appointments/{appointment}/cancel",
        json={"reason": "Clinic closed", "base_version": 1},
        headers=clinic.auth("ng"),
    )
    assert cancel.status_code == 200, cancel.text
    wait_until(lambda: not room_exists(janus, guest.room), what="the rooms to close")
    assert room_exists(janus, other.room)
    peer = JanusHttpPeer(janus.url, guest.janus_token)
    try:
        with pytest.raises(JanusRefused):
            peer.join(guest)
    finally:
        peer.close()
