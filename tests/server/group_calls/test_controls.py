"""The clinician's controls of a group call on a real Janus: mute a participant, remove one (their
link stops working for this call), lock the room, end it for everyone; and what they refuse."""

from collections.abc import Iterator
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shared.group_call_protocol import GroupJoin
from tests.janus_peer import JanusHttpPeer, JanusRefused
from tests.janus_server import JanusServer
from tests.polling import wait_until
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_join, guest_link, staff_join
from tests.server.group_calls.test_rooms import UNAUTHORIZED

VIDEO, AUDIO = "janus.plugin.videoroom", "janus.plugin.audiobridge"


class Peers:
    """Participants joined through Janus's HTTP API (no media: the lists are what is checked)."""

    def __init__(self, janus: JanusServer) -> None:
        self.janus = janus
        self.open: list[JanusHttpPeer] = []

    def join(self, credential: GroupJoin) -> JanusHttpPeer:
        peer = JanusHttpPeer(self.janus.url, credential.janus_token)
        self.open.append(peer)
        peer.join(credential)
        return peer


@pytest.fixture
def peers(janus: JanusServer) -> Iterator[Peers]:
    made = Peers(janus)
    yield made
    for peer in made.open:
        peer.close()


def listed(peer: JanusHttpPeer, plugin: str, room: str) -> dict[str, dict[str, object]]:
    handle = peer.attach(plugin)
    answer = peer.message(handle, {"request": "listparticipants", "room": room})
    return {str(p["id"]): p for p in answer["participants"]}


def control(
    client: TestClient,
    clinic: Clinic,
    appointment: UUID,
    path: str,
    body: object = None,
    user: str = "ng",
) -> tuple[int, dict[str, object]]:
    answer = client.post(
        f"/appointments/{appointment}/group-call/{path}", json=body, headers=clinic.auth(user)
    )
    return answer.status_code, answer.json()


def test_mute_and_remove_a_participant_who_then_cannot_rejoin(
    client: TestClient, clinic: Clinic, engine: Engine, peers: Peers
) -> None:
    appointment = book_group(engine, clinic)
    clinician = staff_join(client, clinic, "ng", appointment)
    link = guest_link(engine, appointment, 2)
    guest = guest_join(client, link)
    watcher = peers.join(clinician)
    peers.join(guest)
    peers.join(guest_join(client, guest_link(engine, appointment, 1)))

    assert control(client, clinic, appointment, "participants/guest-2/mute", {"muted": True}) == (
        200, {"status": "muted"}
    )
    assert listed(watcher, AUDIO, clinician.room)["guest-2"]["muted"] is True
    control(client, clinic, appointment, "participants/guest-2/mute", {"muted": False})
    assert listed(watcher, AUDIO, clinician.room)["guest-2"]["muted"] is False

    status, body = control(client, clinic, appointment, "participants/guest-2/remove")
    assert (status, body) == (200, {"status": "removed"})
    def out_of(plugin: str) -> bool:
        return set(listed(watcher, plugin, clinician.room)) == {clinician.id, "guest-1"}

    wait_until(lambda: out_of(VIDEO) and out_of(AUDIO), what="guest 2 out of both rooms")
    # Their link no longer opens this call, not even with a fresh link for the same person ...
    for token in (link, guest_link(engine, appointment, 2)):
        refused = client.post("/patient/group-call", json={"token": token})
        assert refused.status_code == 403 and refused.json()["code"] == "removed"
    # ... and the join token they held is off the rooms' lists.
    again = JanusHttpPeer(peers.janus.url, guest.janus_token)
    peers.open.append(again)
    with pytest.raises(JanusRefused) as refusal:
        again.join(guest)
    assert refusal.value.code in UNAUTHORIZED
    # The others are untouched.
    assert guest_join(client, guest_link(engine, appointment, 1)).id == "guest-1"


def test_a_locked_room_lets_back_only_who_joined_before(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    appointment = book_group(engine, clinic)
    staff_join(client, clinic, "ng", appointment)
    first = guest_link(engine, appointment, 1)
    guest_join(client, first)
    assert control(client, clinic, appointment, "lock", {"locked": True}) == (
        200, {"status": "locked"}
    )
    late_link = guest_link(engine, appointment, 2)
    latecomer = client.post("/patient/group-call", json={"token": late_link})
    assert latecomer.status_code == 423 and latecomer.json()["code"] == "room_locked"
    assert "locked" in latecomer.json()["message"]
    assert guest_join(client, first).id == "guest-1"  # a dropped connection comes back
    assert staff_join(client, clinic, "ng", appointment).role == "staff"  # staff always may
    control(client, clinic, appointment, "lock", {"locked": False})
    assert guest_join(client, late_link).id == "guest-2"


def test_ending_for_all_closes_the_rooms_for_good(
    client: TestClient, clinic: Clinic, engine: Engine, peers: Peers
) -> None:
    appointment = book_group(engine, clinic)
    clinician = staff_join(client, clinic, "ng", appointment)
    watcher = peers.join(clinician)
    assert control(client, clinic, appointment, "end") == (200, {"status": "ended"})
    with pytest.raises(JanusRefused):
        listed(watcher, VIDEO, clinician.room)
    for answer in (
        client.post("/patient/group-call", json={"token": guest_link(engine, appointment, 1)}),
        client.post(f"/appointments/{appointment}/group-call", headers=clinic.auth("ng")),
    ):
        assert answer.status_code == 410 and answer.json()["code"] == "call_ended"


def test_controls_refuse_what_they_cannot_do(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    appointment = book_group(engine, clinic)
    clinician = staff_join(client, clinic, "ng", appointment)
    mute = {"muted": True}
    # Staff are not muted or removed by another; nobody who never joined is either.
    assert control(client, clinic, appointment, f"participants/{clinician.id}/mute", mute)[0] == 409
    assert control(client, clinic, appointment, "participants/guest-3/remove")[0] == 404
    # Someone who joined once but is not in the rooms now cannot be muted there.
    guest_join(client, guest_link(engine, appointment, 1))
    status, body = control(client, clinic, appointment, "participants/guest-1/mute", mute)
    assert (status, body["code"]) == (404, "not_in_call")
    assert control(client, clinic, appointment, "participants/Robert');/mute", mute)[0] == 422
    assert control(client, clinic, appointment, "lock", {"locked": "maybe"})[0] == 422
    # Someone who may not see the appointment.
    assert control(client, clinic, appointment, "end", user="lee")[0] == 403
