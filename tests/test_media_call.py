"""Two aiortc call sessions in one process over loopback: media, chat, hang-up, security, ICE."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from app.media.call_state import CallState, EndReason
from app.media.ice_config import LOOPBACK, candidate_addresses
from tests.media_peers import Peer, Received, call_pair, drained, wait_for
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


@pytest.mark.asyncio
async def test_video_and_audio_flow_both_ways(peers: tuple[Peer, Peer]) -> None:
    caller, callee = peers
    await connected(caller, callee)
    for side in (caller, callee):
        received = side.listener.received

        def enough(r: Received = received) -> bool:
            return r.video_frames >= 10 and r.loud_audio_frames >= 10

        await eventually(enough)
        assert received.last_video is not None
        assert (received.last_video.width, received.last_video.height) == (320, 240)
    assert caller.listener.states[:2] == [CallState.CONNECTING, CallState.CONNECTED]


@pytest.mark.asyncio
async def test_mute_silences_audio_and_camera_off_stops_video(peers: tuple[Peer, Peer]) -> None:
    caller, callee = peers
    await connected(caller, callee)
    received = callee.listener.received
    await eventually(lambda: received.loud_audio_frames >= 5 and received.video_frames >= 5)

    caller.audio.enabled = False
    caller.video.enabled = False
    await drained(received)
    audio_before, loud_before = received.audio_frames, received.loud_audio_frames
    video_before = received.video_frames
    await eventually(lambda: received.audio_frames >= audio_before + 25)
    assert received.loud_audio_frames == loud_before, "muted audio is not silent"
    assert received.video_frames <= video_before + 1, "camera off still sends frames"

    caller.audio.enabled = True
    caller.video.enabled = True
    await eventually(lambda: received.loud_audio_frames >= loud_before + 5)
    await eventually(lambda: received.video_frames >= video_before + 5)


@pytest.mark.asyncio
async def test_chat_both_ways(peers: tuple[Peer, Peer]) -> None:
    caller, callee = peers
    await connected(caller, callee)
    await eventually(lambda: caller.session.send_chat("Hello, can you hear me?"))
    await wait_for(callee.listener.chat_arrived)
    assert callee.session.send_chat("Yes, loud and clear")
    await wait_for(caller.listener.chat_arrived)
    assert callee.listener.chat == ["Hello, can you hear me?"]
    assert caller.listener.chat == ["Yes, loud and clear"]


@pytest.mark.asyncio
async def test_hang_up_ends_both_sides(peers: tuple[Peer, Peer]) -> None:
    caller, callee = peers
    await connected(caller, callee)
    await callee.session.hang_up()
    assert await asyncio.wait_for(caller.session.wait_ended(), 5) is EndReason.REMOTE_HUNG_UP
    assert callee.session.end_reason is EndReason.HUNG_UP
    assert caller.listener.states[-1] is CallState.ENDED
    assert caller.session.pc is None and callee.session.pc is None


@pytest.mark.asyncio
async def test_dtls_srtp_only_and_ice_on_loopback_only(peers: tuple[Peer, Peer]) -> None:
    caller, callee = peers
    await connected(caller, callee)
    sdps = caller.session.local_sdps + callee.session.local_sdps
    assert sdps and caller.session.remote_sdps and callee.session.remote_sdps
    for sdp in sdps + caller.session.remote_sdps + callee.session.remote_sdps:
        assert "a=crypto" not in sdp, "SDES keys in the SDP: media must be keyed by DTLS"
        assert "a=fingerprint:sha-256" in sdp
        assert "UDP/TLS/RTP/SAVPF" in sdp
        addresses = candidate_addresses(sdp)
        assert addresses and set(addresses) == {LOOPBACK}
    for message in caller.signalling.sent + callee.signalling.sent:
        assert "a=crypto" not in str(message.payload)
    # The selected pair too: both ends on loopback.
    for side in (caller, callee):
        assert side.session.pc is not None
        for transceiver in side.session.pc.getTransceivers():
            transport = transceiver.sender.transport.transport
            pair = transport._connection._nominated.get(1)
            assert pair is not None
            assert pair.local_candidate.host == LOOPBACK
            assert pair.remote_candidate.host == LOOPBACK


@pytest.mark.asyncio
async def test_quality_is_sampled_while_connected(peers: tuple[Peer, Peer]) -> None:
    caller, callee = peers
    await connected(caller, callee)
    await eventually(lambda: len(caller.listener.qualities) >= 4
                     and caller.listener.qualities[-1].rtt is not None)
    quality = caller.listener.qualities[-1]
    assert quality.bitrate_in > 10_000 and quality.bitrate_out > 10_000
    assert quality.loss < 0.05
    assert quality.level.value in ("good", "fair")
