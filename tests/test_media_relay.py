"""Calls through a real coturn, forced to relay: UDP, TCP with UDP blocked, TLS with both
blocked; refused (forged, expired) and unreachable relays end the call with a clear reason."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from app.media.call_path import CandidateKind
from app.media.call_session import CallRole, IceRenewal
from app.media.call_state import CallState, EndReason
from app.media.ice_config import IcePolicy, IceServer, offer_ice
from app.media.relay_probe import RelayTransport, probe_relays
from app.media.signalling import InMemorySignalling
from tests.media_peers import Peer, call_pair, quick_options
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


#: The first credentials' lifetime in the reconnection tests: long enough to connect on a
#: loaded machine, short enough to wait out.
SHORT_LIFETIME = 6


@asynccontextmanager
async def reconnecting_after_expiry(
    turn: TurnServer, renew: IceRenewal
) -> AsyncIterator[tuple[Peer, Peer, IceServer]]:
    """The desktop relay only with short-lived credentials (renewed by `renew`), the far side
    on loopback without TURN (only the desktop's credentials matter): connected, then once
    coturn refuses the first credentials, a reconnection begins."""
    first = turn.server(valid_for=SHORT_LIFETIME)
    left, right = InMemorySignalling.pair()
    caller = Peer(left, CallRole.CALLER, quick_options(ice=relayed(first)), renew_ice=renew)
    # Like the patient's page, the far side waits for the desktop's offers longer than the
    # desktop tries: whatever ends the call is the desktop's decision.
    callee = Peer(right, CallRole.CALLEE, quick_options(reconnect_timeout=60), tone=880)
    try:
        await callee.session.start()
        await caller.session.start()
        await asyncio.wait_for(caller.session.wait_connected(), 20)
        assert caller.session.relay is not None and caller.session.renewals == 0
        # coturn now refuses the first credentials: a reconnection reusing them fails.
        expiry = int(str(first.username).split(":")[0])
        await eventually(lambda: time.time() > expiry + 1, timeout=SHORT_LIFETIME + 30,
                         what="the first credentials to expire", interval=0.2)
        probe = await probe_relays([first])
        assert probe.route is None and probe.refused, probe
        await caller.session.restart_ice()
        yield caller, callee, first
    finally:
        await close(caller, callee)


def offered_usernames(peer: Peer) -> list[str]:
    return [str(message.payload["ice_servers"][0]["username"])
            for message in peer.signalling.sent if message.kind == "offer"]


@pytest.mark.asyncio
async def test_a_reconnection_after_the_credentials_expired_relays_with_fresh_ones(
    turn: TurnServer,
) -> None:
    minted: list[IceServer] = []

    async def renew() -> IcePolicy:
        minted.append(turn.server(call_id=f"renewal-{len(minted)}"))
        return relayed(minted[-1])

    async with reconnecting_after_expiry(turn, renew) as (caller, callee, first):
        frames = callee.listener.received.video_frames
        await eventually(lambda: caller.session.generation >= 2
                         and caller.session.state is CallState.CONNECTED
                         and callee.listener.received.video_frames > frames + 10
                         and caller.listener.received.video_frames > 10,
                         what="media again after the reconnection")
        assert caller.session.renewals == len(minted) >= 1
        assert caller.session.relay is not None
        # The far side was offered the fresh credentials, never the expired ones again.
        usernames = offered_usernames(caller)
        assert usernames[0] == first.username and len(usernames) >= 2
        assert set(usernames[1:]) <= {server.username for server in minted}
        await eventually(lambda: any(q.path is not None and q.path.local is CandidateKind.RELAY
                                     for q in caller.listener.qualities[-3:]))


@pytest.mark.asyncio
async def test_fresh_credentials_the_relay_refuses_end_the_reconnection_at_once(
    turn: TurnServer,
) -> None:
    """coturn's secret changed without the server's: what the server mints is refused too."""
    async def renew() -> IcePolicy:
        return relayed(turn.server(secret="the server's old secret, not coturn's"))

    async with reconnecting_after_expiry(turn, renew) as (caller, callee, first):
        assert await asyncio.wait_for(caller.session.wait_ended(), 20) is EndReason.RELAY_REFUSED
        # One try: fresh credentials refused will be refused again.
        assert caller.session.renewals == 1 and offered_usernames(caller) == [first.username]
        assert await callee.session.wait_ended() is EndReason.REMOTE_HUNG_UP
        hangup = next(m for m in caller.signalling.sent if m.kind == "hangup")
        assert hangup.payload == {"reason": "relay_refused"}


@pytest.mark.asyncio
async def test_without_fresh_credentials_a_reconnection_keeps_trying_then_says_why(
    turn: TurnServer,
) -> None:
    """The server cannot be asked (offline): the expired credentials are tried until the
    reconnection window closes, and the call ends saying the relay refused them."""
    async def renew() -> IcePolicy:
        raise OSError("the server is unreachable")

    async with reconnecting_after_expiry(turn, renew) as (caller, _callee, _first):
        assert await asyncio.wait_for(caller.session.wait_ended(), 20) is EndReason.RELAY_REFUSED
        assert caller.session.renewals == 0
