"""A call whose other side vanishes: reconnecting, an ICE restart, then back or a clean end."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from app.media.call_state import CallState, EndReason
from tests.media_peers import Peer, call_pair, drop_network, wait_for
from tests.polling import eventually


@pytest_asyncio.fixture
async def peers() -> AsyncIterator[tuple[Peer, Peer]]:
    caller, callee = await call_pair()
    yield caller, callee
    await caller.close()
    await callee.close()


async def connected(caller: Peer, callee: Peer) -> None:
    await asyncio.wait_for(caller.session.wait_connected(), 10)
    await asyncio.wait_for(callee.session.wait_connected(), 10)
    await eventually(lambda: caller.listener.received.video_frames > 3)


@pytest.mark.asyncio
async def test_a_vanished_peer_ends_the_call_cleanly_after_the_reconnect_window(
    peers: tuple[Peer, Peer],
) -> None:
    caller, callee = peers
    await connected(caller, callee)
    callee.signalling.cut = True  # its signalling is gone too: restart offers go nowhere
    await drop_network(callee)
    lost_at = time.monotonic()

    await wait_for(caller.listener.state_seen[CallState.RECONNECTING], 5)
    reason = await asyncio.wait_for(caller.session.wait_ended(), 10)
    elapsed = time.monotonic() - lost_at

    assert reason is EndReason.CONNECTION_LOST
    # stall detection (1 s) + the reconnect window (3 s), not aioice's 30 s consent timeout
    assert 3.0 <= elapsed < 8.0
    assert caller.listener.states[-3:] == [
        CallState.CONNECTED, CallState.RECONNECTING, CallState.ENDED
    ]
    assert caller.session.pc is None
    restarts = [m for m in caller.signalling.sent if m.payload.get("restart")]
    assert restarts, "no ICE restart was tried"
    # The callee gives up too (its own stall detection), without hanging.
    assert await asyncio.wait_for(callee.session.wait_ended(), 10) is EndReason.CONNECTION_LOST


@pytest.mark.asyncio
async def test_a_network_blip_reconnects_with_an_ice_restart(peers: tuple[Peer, Peer]) -> None:
    caller, callee = peers
    await connected(caller, callee)
    first_generation = caller.session.generation
    await drop_network(callee)

    await wait_for(caller.listener.state_seen[CallState.RECONNECTING], 5)
    received = caller.listener.received
    received.new_video.clear()
    frames_before = received.video_frames
    await asyncio.wait_for(caller.session.wait_connected(), 10)
    await eventually(lambda: received.video_frames > frames_before + 10)
    assert caller.session.generation > first_generation
    assert callee.session.generation == caller.session.generation
    assert caller.session.state is CallState.CONNECTED
    await eventually(lambda: caller.session.send_chat("still there?"))
    await wait_for(callee.listener.chat_arrived)
    assert callee.listener.chat == ["still there?"]


@pytest.mark.asyncio
async def test_restart_ice_on_request(peers: tuple[Peer, Peer]) -> None:
    caller, callee = peers
    await connected(caller, callee)
    await caller.session.restart_ice()
    assert caller.session.state is CallState.RECONNECTING
    await asyncio.wait_for(caller.session.wait_connected(), 10)
    received = callee.listener.received
    before = received.video_frames
    await eventually(lambda: received.video_frames > before + 5)


@pytest.mark.asyncio
async def test_a_peer_that_sends_no_media_is_not_taken_for_gone() -> None:
    """A browser may stop sending RTP (replaceTrack(null)); its receiver reports still come.

    aiortc sends them every 0.5-1.5 s, so the stall timeout here (2 s) is above that.
    """
    caller, callee = await call_pair(stall_timeout=2.0)
    try:
        await connected(caller, callee)
        callee.audio.set_source(None)
        callee.video.set_source(None)
        # Once a quality sample counts no packets, the media sent before has all arrived.
        qualities = caller.listener.qualities
        await eventually(lambda: qualities and qualities[-1].packets_received == 0,
                         what="a quality sample without packets")
        samples = len(qualities)
        await eventually(lambda: len(caller.listener.qualities) >= samples + 20)  # 5 s
        quiet = caller.listener.qualities[-12:]
        assert all(q.packets_received == 0 for q in quiet), "the callee still sends media"
        assert any(q.heard_from_peer for q in quiet)
        assert CallState.RECONNECTING not in caller.listener.states
    finally:
        await caller.close()
        await callee.close()
