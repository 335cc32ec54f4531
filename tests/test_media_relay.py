"""Calls through a real coturn, forced to relay: UDP, TCP with UDP blocked, TLS with both
blocked; refused (forged, expired) and unreachable relays end the call with a clear reason."""

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.media.call_path import CandidateKind
from app.media.call_state import CallState, EndReason
from app.media.ice_config import IcePolicy, IceServer, offer_ice
from app.media.relay_probe import RelayTransport, probe_relays
from tests.media_peers import Peer, call_pair
from tests.polling import eventually
from tests.turn_server import SECRET, TurnServer, turn_server


@pytest.fixture(scope="module")
def turn() -> Iterator[TurnServer]:
    with turn_server() as server:
        yield server


@pytest.fixture(autouse=True)
def trust_the_test_ca(turn: TurnServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice checks the TLS relay's certificate against the system's CAs (OpenSSL's default
    paths, which honour SSL_CERT_FILE): trust the throwaway CA, as IT deploys theirs."""
    monkeypatch.setenv("SSL_CERT_FILE", str(turn.certificate.ca))


def relayed(server: IceServer) -> IcePolicy:
    return IcePolicy(servers=(server,), relay_only=True)


async def close(*peers: Peer) -> None:
    for peer in peers:
        await peer.close()


@pytest.mark.asyncio
@pytest.mark.parametrize(("udp", "tcp", "transport"), [
    (True, True, RelayTransport.UDP),
    (False, True, RelayTransport.TCP),
    (False, False, RelayTransport.TLS),
])
async def test_a_relay_only_call_takes_the_first_open_path(
    turn: TurnServer, udp: bool, tcp: bool, transport: RelayTransport
) -> None:
    caller, callee = await call_pair(ice=relayed(turn.server(udp=udp, tcp=tcp)))
    try:
        await eventually(lambda: caller.listener.received.video_frames >= 10
                         and callee.listener.received.video_frames >= 10
                         and caller.listener.received.loud_audio_frames >= 10
                         and callee.listener.received.loud_audio_frames >= 10)
        for peer in (caller, callee):
            assert peer.session.relay is not None and peer.session.relay.transport is transport
            # Only relay candidates were offered and answered: nothing peer to peer.
            for sdp in peer.session.local_sdps:
                candidates = [line for line in sdp.splitlines() if line.startswith("a=candidate")]
                assert candidates and all(" typ relay" in line for line in candidates)
        await eventually(lambda: any(q.path is not None for q in caller.listener.qualities))
        path = next(q.path for q in reversed(caller.listener.qualities) if q.path is not None)
        assert (path.local, path.remote, path.relay) == (
            CandidateKind.RELAY, CandidateKind.RELAY, transport)
        assert path.summary() == f"relay {transport.value}"
    finally:
        await close(caller, callee)


@pytest.mark.asyncio
@pytest.mark.parametrize("credentials", ["forged", "expired"])
async def test_refused_credentials_end_the_call_with_a_clear_reason(
    turn: TurnServer, credentials: str
) -> None:
    server = (turn.server(secret="not coturn's secret, a forgery") if credentials == "forged"
              else turn.server(valid_for=-60))
    caller, callee = await call_pair(ice=relayed(server))
    try:
        assert await caller.session.wait_ended() is EndReason.RELAY_REFUSED
        assert "refused this call's credentials" in EndReason.RELAY_REFUSED.value
        # The far side is told (hangup reason) before any offer: it never tries the relay.
        assert await callee.session.wait_ended() is EndReason.REMOTE_HUNG_UP
        assert caller.session.local_sdps == []
    finally:
        await close(caller, callee)


@pytest.mark.asyncio
async def test_an_unreachable_relay_ends_a_relay_only_call(turn: TurnServer) -> None:
    blocked = turn.server(udp=False, tcp=False)
    only_blocked = IceServer(blocked.urls[:2], blocked.username, blocked.credential)
    caller, callee = await call_pair(ice=relayed(only_blocked), relay_probe_timeout=0.5)
    try:
        assert await caller.session.wait_ended() is EndReason.RELAY_UNREACHABLE
    finally:
        await close(caller, callee)


@pytest.mark.asyncio
async def test_without_relay_only_a_refused_relay_leaves_the_direct_path(
    turn: TurnServer,
) -> None:
    server = turn.server(secret="forged")
    ice = replace(IcePolicy.loopback(), servers=(server,))
    caller, callee = await call_pair(ice=ice)
    try:
        await eventually(lambda: caller.session.state is CallState.CONNECTED)
        await eventually(lambda: any(q.path is not None for q in caller.listener.qualities))
        path = next(q.path for q in caller.listener.qualities if q.path is not None)
        assert path.local is CandidateKind.HOST and path.summary() == "direct (host)"
        assert caller.session.relay is None
    finally:
        await close(caller, callee)


@pytest.mark.asyncio
async def test_the_offer_carries_every_path_and_the_policy_but_no_secret(
    turn: TurnServer,
) -> None:
    server = turn.server()
    ice = offer_ice(relayed(server))
    assert ice == {
        "ice_servers": [{"urls": turn.urls(), "username": server.username,
                         "credential": server.credential}],
        "ice_transport_policy": "relay",
    }
    assert SECRET not in repr(ice)
    probe = await probe_relays([server])  # the credential, not the secret, opens the relay
    assert probe.route is not None and probe.route.transport is RelayTransport.UDP


@pytest.mark.asyncio
async def test_a_dropped_path_does_not_hold_up_a_working_one(turn: TurnServer) -> None:
    """UDP dropped by a firewall never answers: TCP, which works, is taken without waiting for
    UDP's timeout (a minute here: waiting for it would fail the wait_for)."""
    probe = await asyncio.wait_for(probe_relays([turn.server(udp=False)], timeout=60), 10)
    assert probe.route is not None and probe.route.transport is RelayTransport.TCP
    assert probe.unreachable == (turn.urls(udp=False)[0],) and probe.refused == ()
