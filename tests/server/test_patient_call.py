"""The video call end to end: the desktop's real CallSession (aiortc) calls the patient's page in
headless Chromium through the server's realtime hub and patient socket, on loopback only.

Desktop: a clinician's realtime socket, CallSession as caller with lavfi camera and tone.
Patient: the emailed link, the device check, the waiting room; call.js answers the offer.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page

from app.media.call_state import CallState, EndReason
from app.media.ice_config import LOOPBACK, candidate_addresses
from tests.media_peers import drained
from tests.polling import eventually
from tests.server.axe_check import assert_clean_async
from tests.server.call_helpers import (
    Desk,
    call_stats,
    desk_call,
    drop_network,
    page_eventually,
    patient_browser,
    screenshots,
    shown,
    to_waiting_room,
)
from tests.server.conftest import sqlite_database
from tests.server.test_patient_pages import Clinic2, mail, served  # noqa: F401  (fixtures)

log = logging.getLogger(__name__)

#: Keeps the page's #call-state history (a transient "Reconnecting…" is easy to miss by polling).
#: An init script: the page's CSP does not apply to it.
RECORD_CALL_STATES = """
window.__callStates = [];
document.addEventListener('DOMContentLoaded', function () {
  var node = document.getElementById('call-state');
  new MutationObserver(function () {
    var state = node.getAttribute('data-state');
    if (window.__callStates[window.__callStates.length - 1] !== state) {
      window.__callStates.push(state);
    }
  }).observe(node, {attributes: true, attributeFilter: ['data-state']});
});
"""


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: the call does not touch the database beyond booking (saves a second run)."""
    yield sqlite_database(tmp_path)


@dataclass
class Call:
    desk: Desk
    page: Page
    appointment: str


async def start_call(desk: Desk) -> None:
    """The desktop calls; returns once both ends report a connection."""
    await desk.session.start()
    await asyncio.wait_for(desk.session.wait_connected(), 10)


@pytest_asyncio.fixture
async def call(served: Clinic2) -> AsyncIterator[Call]:  # noqa: F811
    """The patient waits in the room; the desktop has called and the call is connected."""
    appointment, link = served.book()
    async with patient_browser() as browser, desk_call(
        served.base, served.clinic.tokens["ng"], appointment, reconnect_timeout=2.0
    ) as desk:
        page = await to_waiting_room(browser, link, init_script=RECORD_CALL_STATES)
        await asyncio.wait_for(desk.signalling.presence_changed.wait(), 10)
        assert desk.signalling.presence == ["entered"]
        await start_call(desk)
        await page.wait_for_selector('#call-state[data-state="connected"]')
        yield Call(desk, page, appointment)


def frames_seen(desk: Desk, video: int, loud_audio: int) -> bool:
    received = desk.received
    return bool(received.video_frames >= video and received.loud_audio_frames >= loud_audio)


@pytest.mark.asyncio
async def test_video_and_audio_flow_both_ways_over_dtls_on_loopback(
    call: Call, screenshot_dir: Path | None, record_property: Callable[[str, object], None]
) -> None:
    desk, page = call.desk, call.page
    await eventually(lambda: frames_seen(desk, 20, 20), what="frames at the desktop")
    first_frame = desk.first_frame_at[0] - desk.signalling.offer_sent_at[0]
    answered = desk.signalling.answer_received_at[0] - desk.signalling.offer_sent_at[0]
    log.info("offer -> the page's answer at the desktop: %.0f ms; -> first decoded frame: %.0f ms",
             answered * 1000, first_frame * 1000)
    record_property("offer_to_first_frame_ms", round(first_frame * 1000))
    assert first_frame < 5
    assert desk.received.last_video is not None and desk.received.last_video.width > 0

    # The page decodes the desktop's video and receives its audio (its own getStats).
    stats = await page_eventually(
        page,
        "window.clinicDesk.callStats().then(function (s) {"
        "  return s && s.videoFramesDecoded > 10 && s.audioPacketsReceived > 10 ? s : null; })",
        what="inbound video and audio in the page's stats",
    )
    assert stats["ice"] in ("connected", "completed")
    assert await page.evaluate("document.getElementById('remote-video').videoWidth") == 640

    # DTLS-SRTP only, and every candidate on both sides' SDPs the desktop used is loopback.
    session = desk.session
    raw_answers = [p["sdp"] for kind, p in desk.signalling.received if kind == "answer"]
    sdps = session.local_sdps + session.remote_sdps + raw_answers
    sdps += [stats["localSdp"], stats["remoteSdp"]]
    assert len(sdps) >= 4
    for sdp in sdps:
        assert "a=crypto" not in sdp, "SDES keys in the SDP: media must be keyed by DTLS"
        assert "a=fingerprint:sha-" in sdp  # DTLS keys the media
    for sdp in session.local_sdps + session.remote_sdps:
        addresses = candidate_addresses(sdp)
        assert addresses and set(addresses) == {LOOPBACK}
    assert session.pc is not None
    for transceiver in session.pc.getTransceivers():
        pair = transceiver.sender.transport.transport._connection._nominated.get(1)
        assert pair is not None
        assert (pair.local_candidate.host, pair.remote_candidate.host) == (LOOPBACK, LOOPBACK)
        remote = transceiver.sender.transport.transport._connection._remote_candidates
        assert {candidate.host for candidate in remote} == {LOOPBACK}

    await page_eventually(page, "document.getElementById('remote-video').currentTime > 0.3")
    await screenshots(page, screenshot_dir, "in-call")


@pytest.mark.asyncio
async def test_chat_goes_both_ways(call: Call, screenshot_dir: Path | None) -> None:
    desk, page = call.desk, call.page
    await page.wait_for_selector("#call-chat-input:enabled")
    assert await eventually(lambda: desk.session.send_chat("Hello, can you hear me?"))
    await page.wait_for_selector("#call-chat-log li.chat-clinician:has-text('can you hear me')")

    # The clinician by name, on the chat's visible label as on their messages.
    await page.get_by_label("Message to Ng").fill("Yes, loud and clear")
    await page.get_by_label("Message to Ng").press("Enter")
    await asyncio.wait_for(desk.listener.chat_arrived.wait(), 10)
    assert desk.listener.chat == ["Yes, loud and clear"]
    assert await page.input_value("#call-chat-input") == ""
    items = await page.locator("#call-chat-log li").all_inner_texts()
    assert [" ".join(item.split()) for item in items] == [
        "Ng Hello, can you hear me?", "You Yes, loud and clear"
    ]
    # The log scrolls by keyboard: Tab from the stage's controls reaches it.
    await page.focus("#call-hangup")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "call-chat-log"
    await assert_clean_async(page, "in-call chat")
    await screenshots(page, screenshot_dir, "in-call-chat")


@pytest.mark.asyncio
async def test_mute_silences_and_camera_off_stops_frames(
    call: Call, screenshot_dir: Path | None
) -> None:
    desk, page = call.desk, call.page
    received = desk.received
    await eventually(lambda: frames_seen(desk, 5, 5), what="frames at the desktop")

    mute = page.get_by_role("button", name="Mute")
    await mute.focus()
    await page.keyboard.press("Enter")  # the controls work from the keyboard
    await page.wait_for_selector('#call-mute[data-active="true"]')
    await page.get_by_role("button", name="Stop camera").click()
    await page.wait_for_selector('#call-camera[data-active="true"]')
    await drained(received, audio_frames=25)  # what was in flight and the jitter buffer
    audio_before, loud_before = received.audio_frames, received.loud_audio_frames
    video_before = received.video_frames
    await eventually(lambda: received.audio_frames >= audio_before + 50, what="silent audio")
    assert received.loud_audio_frames == loud_before, "muted audio is not silent"
    assert received.video_frames <= video_before + 1, "camera off still sends frames"
    await screenshots(page, screenshot_dir, "in-call-muted")

    await page.get_by_role("button", name="Unmute").click()
    await page.get_by_role("button", name="Start camera").click()
    await eventually(lambda: received.loud_audio_frames >= loud_before + 5, what="sound again")
    await eventually(lambda: received.video_frames >= video_before + 5, what="video again")
    assert desk.session.state is CallState.CONNECTED


@pytest.mark.asyncio
async def test_the_desktop_hangs_up_and_the_page_says_ended(
    call: Call, screenshot_dir: Path | None
) -> None:
    desk, page = call.desk, call.page
    await desk.session.hang_up()
    await shown(page, "ended")
    assert await page.locator("#ended h1").inner_text() == "Your consultation has ended"
    assert await page.evaluate("window.clinicDesk.callStats()") is None  # connection closed
    await asyncio.wait_for(_presence(desk, "left"), 10)
    await screenshots(page, screenshot_dir, "call-ended")


@pytest.mark.asyncio
async def test_the_patient_hangs_up(call: Call) -> None:
    desk, page = call.desk, call.page
    await page.get_by_role("button", name="End call").click()
    await shown(page, "ended")
    reason = await asyncio.wait_for(desk.session.wait_ended(), 10)
    assert reason is EndReason.REMOTE_HUNG_UP
    hangups = [p for kind, p in desk.signalling.received if kind == "hangup"]
    assert hangups == [{"reason": "patient hung up"}]


@pytest.mark.asyncio
async def test_closing_the_page_mid_call_reconnects_then_ends(call: Call) -> None:
    desk, page = call.desk, call.page
    listener = desk.listener
    closed_at = time.monotonic()
    await page.context.close()
    await asyncio.wait_for(listener.state_seen[CallState.RECONNECTING].wait(), 10)
    reconnecting_after = time.monotonic() - closed_at
    reason = await asyncio.wait_for(desk.session.wait_ended(), 10)
    log.info("page closed -> reconnecting %.0f ms, -> ended %.0f ms",
             reconnecting_after * 1000, (time.monotonic() - closed_at) * 1000)
    assert reason is EndReason.CONNECTION_LOST
    assert listener.states[-3:] == [CallState.CONNECTED, CallState.RECONNECTING, CallState.ENDED]
    assert desk.session.pc is None
    # It tried to reconnect (a fresh offer, higher generation) and told the page it gave up.
    offers = [p for kind, p in desk.signalling.sent if kind == "offer"]
    assert len(offers) >= 2 and offers[-1]["restart"] is True
    assert offers[-1]["generation"] > offers[0]["generation"]
    assert desk.signalling.sent[-1][0] == "hangup"


@pytest.mark.asyncio
async def test_an_ice_restart_replaces_the_pages_connection(call: Call) -> None:
    desk, page = call.desk, call.page
    received = desk.received
    await eventually(lambda: frames_seen(desk, 5, 5), what="frames at the desktop")
    first = await call_stats(page)
    assert first["generation"] == 1

    # The desktop's network drops (its ICE sockets close, nobody is told): the desktop notices
    # the stall and re-offers (generation 2); the page answers with a new RTCPeerConnection.
    assert desk.session.pc is not None
    await drop_network(desk.session.pc)
    await asyncio.wait_for(desk.listener.state_seen[CallState.RECONNECTING].wait(), 10)
    restarted_at = time.monotonic()
    await asyncio.wait_for(desk.session.wait_connected(), 10)
    video_before = received.video_frames
    await eventually(lambda: received.video_frames >= video_before + 10, what="frames again")
    log.info("reconnecting -> frames again: %.0f ms", (time.monotonic() - restarted_at) * 1000)

    stats = await page_eventually(
        page,
        "window.clinicDesk.callStats().then(function (s) {"
        "  return s && s.generation >= 2 && s.videoFramesDecoded > 5 ? s : null; })",
        what="the page's new connection decoding video",
    )
    assert stats["localSdp"] != first["localSdp"]  # a new connection, new ICE credentials
    offers = [p for kind, p in desk.signalling.sent if kind == "offer"]
    assert offers[-1]["restart"] is True and offers[-1]["generation"] == stats["generation"]
    states = await page.evaluate("window.__callStates")
    assert states == ["connecting", "connected", "reconnecting", "connected"]
    assert await page.inner_text("#call-state") == "Connected to your clinician"
    # Chat works on the new connection's channel.
    await page.wait_for_selector("#call-chat-input:enabled")
    assert await eventually(lambda: desk.session.send_chat("Back again"))
    await page.wait_for_selector("#call-chat-log li.chat-clinician:has-text('Back again')")


async def _presence(desk: Desk, state: str) -> None:
    while state not in desk.signalling.presence:
        desk.signalling.presence_changed.clear()
        await desk.signalling.presence_changed.wait()


@pytest.mark.asyncio
async def test_a_clinician_without_a_camera_shows_as_name_and_initials(
    served: Clinic2, screenshot_dir: Path | None  # noqa: F811
) -> None:
    appointment, link = served.book()
    async with patient_browser() as browser, desk_call(
        served.base, served.clinic.tokens["ng"], appointment, camera=False
    ) as desk:
        page = await to_waiting_room(browser, link)
        await asyncio.wait_for(desk.signalling.presence_changed.wait(), 10)
        await start_call(desk)
        await page.wait_for_selector('#call-state[data-state="connected"]')
        # No video comes: the clinician's name and initials stand there, not a black box.
        await page.wait_for_selector("#remote-card:not([hidden])")
        name = await page.inner_text("#remote-name")
        assert name == "Ng"  # the test clinic's clinician
        assert await page.inner_text("#remote-initials") == "N"
        assert await page.get_attribute("#remote-card", "aria-label") == "Ng, camera off"
        # Initials skip a title and take the first and last names.
        assert await page.evaluate("window.clinicDeskInitials('Dr Mei Ling Ng')") == "MN"
        assert await page.is_hidden("#remote-video")
        # The patient's own video still reaches the desktop.
        await eventually(lambda: frames_seen(desk, 5, 5), what="frames at the desktop")
        await screenshots(page, screenshot_dir, "in-call-no-clinician-camera")
