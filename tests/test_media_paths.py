"""Other call paths: phone (audio only), a browser-like peer that trickles, switching mid-call."""

import asyncio

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

from app.media.call_session import CallRole
from app.media.call_state import CallState
from app.media.capture import CaptureProfile, LocalMedia, open_player
from app.media.devices import DeviceKind, MediaDevice, pattern_camera, tone_microphone
from app.media.ice_config import LOOPBACK, candidate_addresses, confined_to, rtc_configuration
from app.media.screen_share import lavfi_screen
from app.media.signalling import InMemorySignalling
from shared.realtime_protocol import SignalKind
from tests.media_peers import Peer, quick_options
from tests.polling import eventually


@pytest.mark.asyncio
async def test_a_phone_call_is_audio_only() -> None:
    left, right = InMemorySignalling.pair()
    options = quick_options(audio_only=True)
    caller = Peer(left, CallRole.CALLER, options)
    callee = Peer(right, CallRole.CALLEE, options)
    try:
        await callee.session.start()
        await caller.session.start()
        await asyncio.wait_for(caller.session.wait_connected(), 10)
        await eventually(lambda: caller.listener.received.loud_audio_frames >= 10
                         and callee.listener.received.loud_audio_frames >= 10)
        for sdp in caller.session.local_sdps + callee.session.local_sdps:
            assert "m=video" not in sdp and "m=audio" in sdp
        assert caller.listener.received.video_frames == 0
    finally:
        await caller.close()
        await callee.close()


@pytest.mark.asyncio
async def test_a_browser_like_peer_may_trickle_its_candidates() -> None:
    """The patient's browser answers without candidates and sends them one by one."""
    ours, theirs = InMemorySignalling.pair()
    caller = Peer(ours, CallRole.CALLER, quick_options())
    browser = RTCPeerConnection(rtc_configuration(quick_options().ice))
    tone = MediaPlayer("sine=frequency=660", format="lavfi")
    try:
        await caller.session.start()
        offer = await asyncio.wait_for(theirs.receive(), 5)
        assert offer is not None and offer.kind is SignalKind.OFFER
        await browser.setRemoteDescription(RTCSessionDescription(offer.payload["sdp"], "offer"))
        assert tone.audio is not None
        browser.addTrack(tone.audio)
        with confined_to([LOOPBACK]):
            await browser.setLocalDescription(await browser.createAnswer())
        full = browser.localDescription.sdp
        lines = full.splitlines()
        bare = "\r\n".join(
            line for line in lines
            if not line.startswith(("a=candidate:", "a=end-of-candidates"))) + "\r\n"
        candidates = [line.removeprefix("a=") for line in lines if line.startswith("a=candidate:")]
        assert candidates and set(candidate_addresses(full)) == {LOOPBACK}
        # One candidate overtakes the answer (kept until the answer is applied), the rest follow.
        await theirs.send(SignalKind.CANDIDATE,
                          {"candidate": candidates[0], "sdpMid": "0", "sdpMLineIndex": 0})
        await theirs.send(SignalKind.ANSWER, {"type": "answer", "sdp": bare,
                                              "generation": offer.payload["generation"]})
        for candidate in candidates[1:]:
            await theirs.send(SignalKind.CANDIDATE,
                              {"candidate": candidate, "sdpMid": "0", "sdpMLineIndex": 0})
        await theirs.send(SignalKind.CANDIDATE, {"candidate": "", "sdpMid": "0"})
        await asyncio.wait_for(caller.session.wait_connected(), 10)
        await eventually(lambda: caller.listener.received.loud_audio_frames >= 5)
    finally:
        await caller.close()
        await browser.close()
        if tone.audio is not None:
            tone.audio.stop()


@pytest.mark.asyncio
async def test_switching_camera_and_sharing_the_screen_mid_call() -> None:
    left, right = InMemorySignalling.pair()
    options = quick_options()
    media = LocalMedia(CaptureProfile(320, 240, 30))
    await media.use_camera(pattern_camera())
    await media.use_microphone(tone_microphone())
    caller = Peer(left, CallRole.CALLER, options)
    caller.session.audio, caller.session.video = media.outgoing_audio, media.outgoing_video
    callee = Peer(right, CallRole.CALLEE, options)
    received = callee.listener.received

    def remote_width() -> int:
        return 0 if received.last_video is None else received.last_video.width

    try:
        await callee.session.start()
        await caller.session.start()
        await asyncio.wait_for(caller.session.wait_connected(), 10)
        await eventually(lambda: remote_width() == 320)

        await media.use_camera(MediaDevice(DeviceKind.CAMERA, "bars", "Bars",
                                           "smptebars=size=640x360:rate=30", "lavfi"))
        await eventually(lambda: remote_width() == 640)
        await media.use_microphone(MediaDevice(DeviceKind.MICROPHONE, "tone2", "Tone 2",
                                               "sine=frequency=1000", "lavfi"))
        loud = received.loud_audio_frames
        await eventually(lambda: received.loud_audio_frames > loud + 10)

        screen = open_player(lavfi_screen(1280, 720), media.profile)
        assert screen.video is not None
        media.share_screen(screen.video)
        await eventually(lambda: remote_width() == 1280)
        media.stop_screen_share()
        await eventually(lambda: remote_width() == 640)
        assert caller.session.state is CallState.CONNECTED
    finally:
        await caller.close()
        await callee.close()
        media.close()
