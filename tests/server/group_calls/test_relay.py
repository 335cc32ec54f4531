"""Group calls through hospital firewalls: the legs to Janus go through a real coturn with the
TURN credentials the join answer carries (minted per participant), relay only when the server
says so; credentials coturn refuses stop the join before anyone sees the participant."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from app.media.call_path import CandidateKind, call_path
from app.media.relay_probe import NoRelayPath, RelayTransport
from server.app import create_app
from server.settings import Settings
from shared.clock import FixedClock
from tests.janus_server import JanusServer
from tests.netns import VETH_ADDRESS
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import (
    book_group,
    guest_join,
    guest_link,
    janus_settings,
    staff_join,
)
from tests.server.group_calls.peers import Participant, tone_power, wait_until
from tests.turn_server import SECRET, TurnServer, turn_server


@pytest.fixture
def turn(inside: None) -> Iterator[TurnServer]:
    """coturn inside the test's namespace, next to Janus: clients reach it on 127.0.0.1, and it
    relays from the veth's address, which Janus (ICE on the veth only) sends to."""
    with turn_server(relay_ip=VETH_ADDRESS) as server:
        yield server


def relay_client(
    settings: Settings, engine: Engine, clock: FixedClock, janus: JanusServer, turn: TurnServer,
    secret: str = SECRET,
) -> TestClient:
    """The clinic's server with coturn's URLs and `secret`, requiring relayed media."""
    relayed = janus_settings(settings, janus, turn_urls=turn.urls(),
                             turn_secret=SecretStr(secret), ice_relay_only=True)
    return TestClient(create_app(relayed, engine, clock))


@pytest.mark.asyncio
async def test_the_legs_to_janus_go_through_the_relay(
    inside: None, settings: Settings, engine: Engine, clock: FixedClock, janus: JanusServer,
    turn: TurnServer, clinic: Clinic,
) -> None:
    appointment = book_group(engine, clinic)
    with relay_client(settings, engine, clock, janus, turn) as client:
        raw = client.post(f"/appointments/{appointment}/group-call", headers=clinic.auth("ng"))
        assert raw.status_code == 200 and SECRET not in raw.text
        joins = [staff_join(client, clinic, "ng", appointment),
                 guest_join(client, guest_link(engine, appointment, 1))]
    for join in joins:
        assert join.ice_transport_policy == "relay"
        assert join.ice_servers[0].urls == turn.urls()
        expiry, call_id = join.ice_servers[0].username.split(":")
        assert call_id == f"group-{appointment}-{join.id}"
        assert int(expiry) == int(join.expires_at.timestamp())
        assert SECRET not in json.dumps(join.model_dump(mode="json"))
    clinician, guest = (Participant(join, tone, camera=True)
                        for join, tone in zip(joins, (300, 440), strict=True))
    try:
        for person in (clinician, guest):
            await person.session.start()
        # Janus lists the guest's video once it flows in (through the relay).
        await wait_until(lambda: (who := clinician.recorder.who("guest-1")) is not None
                         and who.video, "the guest publishing video")
        await clinician.session.show(["guest-1"])
        await wait_until(lambda: clinician.recorder.heard.video_frames.get("guest-1", 0) >= 10,
                         "the guest's video through the relay")
        heard = clinician.recorder.heard
        await wait_until(lambda: len(heard.mix) > 1000
                         and tone_power(heard.mix, heard.mix_rate, 440) > 0.05,
                         "the guest's voice in the mix through the relay")
        for person in (clinician, guest):
            session = person.session
            assert session.ice.relay_only
            assert session.relay is not None and session.relay.transport is RelayTransport.UDP
            legs = session.connections()
            assert len(legs) == (3 if person is clinician else 2)
            for pc in legs:
                candidates = [line for line in pc.localDescription.sdp.splitlines()
                              if line.startswith("a=candidate")]
                assert candidates and all(" typ relay" in line for line in candidates)
            # The legs that carried media took the relay (their nominated pairs).
            paths = [call_path(pc, session.relay) for pc in legs]
            assert any(paths) and all(path.local is CandidateKind.RELAY
                                      for path in paths if path is not None), paths
    finally:
        for person in (clinician, guest):
            await person.close()


@pytest.mark.asyncio
async def test_credentials_the_relay_refuses_stop_the_join_before_the_rooms(
    inside: None, settings: Settings, engine: Engine, clock: FixedClock, janus: JanusServer,
    turn: TurnServer, clinic: Clinic,
) -> None:
    """The server's secret is not coturn's: the join's credentials are refused, the desktop
    says so (the 1:1 call's sentence) and never enters the rooms."""
    appointment = book_group(engine, clinic)
    with relay_client(settings, engine, clock, janus, turn, "not coturn's secret " * 2) as client:
        join = staff_join(client, clinic, "ng", appointment)
        watcher_join = guest_join(client, guest_link(engine, appointment, 1))
    watcher = Participant(watcher_join.model_copy(update={"ice_servers": [],
                                                          "ice_transport_policy": "all"}),
                          440, camera=False)
    person = Participant(join, 300, camera=True)
    try:
        await watcher.session.start()
        with pytest.raises(NoRelayPath) as refused:
            await person.session.start()
        assert refused.value.refused
        assert person.session.connections() == []
        assert join.id not in {p.id for p in watcher.recorder.heard.participants}
    finally:
        await person.close()
        await watcher.close()
