"""The call's small parts: ICE configuration and confinement, signalling pair, quality levels."""

import datetime

import aioice.ice
import pytest
from aiortc import RTCStatsReport
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.stats import RTCInboundRtpStreamStats, RTCRemoteInboundRtpStreamStats, RTCTransportStats

from app.media.ice_config import (
    LOOPBACK,
    IcePolicy,
    IceServer,
    confined_to,
    host_addresses,
    resolve_interfaces,
    rtc_configuration,
)
from app.media.relay_probe import RelayTransport, through, turn_routes
from app.media.signalling import InMemorySignalling, SignallingError
from app.media.stats import QualityLevel, QualityMeter, level_for
from shared.realtime_protocol import MAX_SIGNAL_PAYLOAD, SignalKind


def test_rtc_configuration_from_the_server_settings() -> None:
    policy = IcePolicy(servers=(
        IceServer(("stun:127.0.0.1:3478",)),
        IceServer(("turn:127.0.0.1:3478?transport=udp",), "user", "secret"),
    ))
    config = rtc_configuration(policy)
    assert config.iceServers is not None
    assert [s.urls for s in config.iceServers] == [
        ["stun:127.0.0.1:3478"], ["turn:127.0.0.1:3478?transport=udp"]]
    assert config.iceServers[1].credential == "secret"
    assert rtc_configuration(IcePolicy()).iceServers == []  # never a public STUN by default
    relay = rtc_configuration(IcePolicy(relay_only=True))
    assert relay.iceTransportPolicy is RTCIceTransportPolicy.RELAY


def test_aiortc_gets_the_stun_servers_and_the_one_turn_path_chosen() -> None:
    minted = IceServer(("turn:10.0.0.5:3478?transport=udp", "turn:10.0.0.5:3478?transport=tcp",
                        "turns:10.0.0.5:443?transport=tcp"), "1796205600:call", "pw")
    mixed = IceServer(("stun:10.0.0.5:3478", "turn:10.0.0.6:3478"), "static", "pw2")
    routes = turn_routes([minted, mixed])
    assert [(r.server.urls, r.transport) for r in routes] == [
        (("turn:10.0.0.5:3478?transport=udp",), RelayTransport.UDP),
        (("turn:10.0.0.5:3478?transport=tcp",), RelayTransport.TCP),
        (("turns:10.0.0.5:443?transport=tcp",), RelayTransport.TLS),
        (("turn:10.0.0.6:3478",), RelayTransport.UDP),
    ]
    assert routes[2].server.username == "1796205600:call" and routes[3].server.credential == "pw2"
    policy = IcePolicy(servers=(minted, mixed), relay_only=True)
    chosen = through(policy, routes[1])
    assert [s.urls for s in chosen.servers] == [
        ("stun:10.0.0.5:3478",), ("turn:10.0.0.5:3478?transport=tcp",)]
    assert chosen.relay_only
    assert [s.urls for s in through(policy, None).servers] == [("stun:10.0.0.5:3478",)]


def test_interfaces_resolve_to_their_addresses() -> None:
    assert resolve_interfaces(["lo"]) == [LOOPBACK, "::1"]
    assert resolve_interfaces(["127.0.0.1", "lo"]) == [LOOPBACK, "::1"]
    assert resolve_interfaces(["no-such-interface0"]) == []
    assert host_addresses(IcePolicy()) is None
    assert host_addresses(IcePolicy.loopback()) == [LOOPBACK]


def test_confinement_holds_only_inside_the_block() -> None:
    with confined_to([LOOPBACK, "::1"]):
        assert aioice.ice.get_host_addresses(True, False) == [LOOPBACK]
        assert aioice.ice.get_host_addresses(True, True) == [LOOPBACK, "::1"]
        with confined_to([]):
            assert aioice.ice.get_host_addresses(True, True) == []
    outside = aioice.ice.get_host_addresses(True, False)
    assert LOOPBACK not in outside  # aioice's own choice again


@pytest.mark.asyncio
async def test_in_memory_signalling_relays_json_and_can_be_cut() -> None:
    left, right = InMemorySignalling.pair()
    await left.send(SignalKind.OFFER, {"type": "offer", "sdp": "v=0", "generation": 1})
    message = await right.receive()
    assert message is not None and message.kind is SignalKind.OFFER
    assert message.payload["generation"] == 1
    with pytest.raises(SignallingError, match="not JSON"):
        await left.send(SignalKind.CANDIDATE, {"candidate": object()})
    with pytest.raises(SignallingError, match="over"):
        await left.send(SignalKind.OFFER, {"sdp": "x" * MAX_SIGNAL_PAYLOAD})
    right.cut = True
    await left.send(SignalKind.HANGUP, {})
    await right.close()
    assert await right.receive() is None
    with pytest.raises(SignallingError):
        await right.send(SignalKind.HANGUP, {})


def test_quality_levels() -> None:
    assert level_for(0.05, 0.0) is QualityLevel.GOOD
    assert level_for(None, 0.0) is QualityLevel.GOOD
    assert level_for(0.25, 0.0) is QualityLevel.FAIR
    assert level_for(0.05, 0.03) is QualityLevel.FAIR
    assert level_for(0.5, 0.0) is QualityLevel.POOR
    assert level_for(0.05, 0.10) is QualityLevel.POOR


def _report(received: int, lost: int, bytes_in: int, bytes_out: int, rtt: float) -> RTCStatsReport:
    now = datetime.datetime.now(datetime.UTC)
    report = RTCStatsReport()
    report.add(RTCInboundRtpStreamStats(
        timestamp=now, type="inbound-rtp", id="in", ssrc=1, kind="video", transportId="t",
        packetsReceived=received, packetsLost=lost, jitter=0))
    report.add(RTCRemoteInboundRtpStreamStats(
        timestamp=now, type="remote-inbound-rtp", id="rin", ssrc=2, kind="video",
        transportId="t", packetsReceived=0, packetsLost=0, jitter=0, roundTripTime=rtt,
        fractionLost=0.0))
    report.add(RTCTransportStats(
        timestamp=now, type="transport", id="t", packetsSent=0, packetsReceived=0,
        bytesSent=bytes_out, bytesReceived=bytes_in, iceRole="controlling", dtlsState="connected"))
    return report


def test_quality_meter_works_on_the_difference_between_samples() -> None:
    meter = QualityMeter()
    first = meter.sample(_report(100, 0, 10_000, 20_000, 0.02), now=10.0)
    assert first.level is QualityLevel.GOOD and first.bitrate_in == 0.0
    second = meter.sample(_report(190, 10, 135_000, 270_000, 0.03), now=11.0)
    assert second.bitrate_in == 1_000_000 and second.bitrate_out == 2_000_000
    assert second.loss == pytest.approx(0.1)
    assert second.level is QualityLevel.POOR and second.packets_received == 90
    assert "loss 10.0%" in second.summary() and "30 ms" in second.summary()
    assert second.heard_from_peer
    # no media (a muted, camera-off peer) but receiver reports still arrive: still there
    quiet = meter.sample(_report(190, 10, 135_500, 270_000, 0.03), now=12.0)
    assert quiet.packets_received == 0 and quiet.heard_from_peer
    gone = meter.sample(_report(190, 10, 135_500, 270_000, 0.03), now=13.0)
    assert not gone.heard_from_peer
    meter.reset()
    assert meter.sample(_report(5, 0, 0, 0, 0.02), now=14.0).packets_received == 5


def test_the_servers_stun_and_turn_come_first_and_reach_the_page_in_the_offer() -> None:
    from app.services.call_service import CallConfig

    server = IceServer(("turn:turn.hospital.example:3478",), "cd", "secret")
    own = IceServer(("turns:relay.example.org:5349",))
    config = CallConfig.from_settings({"turn_servers": ["turns:relay.example.org:5349"],
                                       "ice_interfaces": ["127.0.0.1"]})
    merged = config.with_servers([server])
    assert merged.options.ice.servers == (server, own)
    assert merged.options.ice.interfaces == ("127.0.0.1",)
    assert merged.with_servers([server]).options.ice.servers == (server, own)  # stable


@pytest.mark.asyncio
async def test_a_lent_track_stops_alone_and_its_source_goes_on() -> None:
    from aiortc.contrib.media import MediaPlayer
    from aiortc.mediastreams import MediaStreamError
    from av import VideoFrame

    from app.media.tracks import LentTrack

    player = MediaPlayer("testsrc=size=64x48:rate=30", format="lavfi")
    assert player.video is not None
    try:
        first = LentTrack(player.video)
        assert first.kind == "video"
        frame = await first.recv()
        assert isinstance(frame, VideoFrame) and frame.width == 64
        first.stop()  # what aiortc does with a sender's track when its connection closes
        with pytest.raises(MediaStreamError):
            await first.recv()
        assert player.video.readyState == "live"
        again = LentTrack(player.video)  # the next connection (a rejoin) sends it again
        frame = await again.recv()
        assert isinstance(frame, VideoFrame) and frame.height == 48
    finally:
        player.video.stop()
