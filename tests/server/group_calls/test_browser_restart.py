"""A participant's browser when the room changes under it: the clinician shares a screen (a large
tile on the page), the page's camera goes out in simulcast layers (the clinician asks for a
smaller or the full one), and Janus killed mid-call is
ridden out by the page on its own ("reconnecting", then back with the clinician's video).
Chromium and an aiortc clinician in the module's own namespace and Janus."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from aiortc.contrib.media import MediaPlayer
from playwright.async_api import Browser, Page
from sqlalchemy import Engine

from app.media.group_session import FULL_LAYER, QUARTER_LAYER, RejoinRefused, screen_feed
from shared.group_call_protocol import GroupJoin
from tests.janus_server import JanusServer
from tests.server.call_helpers import (
    device_checked,
    page_eventually,
    patient_browser,
    screenshots,
)
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_link
from tests.server.group_calls.peers import Participant, wait_until
from tests.server.group_calls.test_browser import admit, connected, stats, waiting_from_link


async def join_from_link(
    browser: Browser, url: str, base: str, clinic: Clinic, appointment: UUID
) -> Page:
    """The link's guest (guest-1) asks to join, Dr Ng admits them, their page joins."""
    page = await waiting_from_link(browser, url)
    await admit(base, clinic.auth("ng"), appointment, "guest-1")
    await connected(page)
    return page


@pytest.mark.asyncio
async def test_the_page_shows_a_shared_screen_sends_layers_and_rejoins_after_janus_died(
    base: str, clinic: Clinic, engine: Engine, janus: JanusServer, screenshot_dir: Path | None
) -> None:
    appointment = book_group(engine, clinic, guests=1)
    link = f"{base}/join#{guest_link(engine, appointment, 1)}"

    async def again() -> GroupJoin:
        async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
            answer = await http.post(
                f"/appointments/{appointment}/group-call", headers=clinic.auth("ng"))
        if answer.status_code in (403, 409, 410):
            raise RejoinRefused(answer.json()["message"])
        answer.raise_for_status()
        return GroupJoin.model_validate(answer.json())

    clinician = Participant(await again(), 300, camera=True, renew=again)
    me = clinician.recorder.heard
    staff = clinician.session.join.id
    screen = MediaPlayer("smptehdbars=size=960x540:rate=10", format="lavfi")
    assert screen.video is not None
    await clinician.session.start()
    try:
        async with patient_browser() as browser:
            page = await join_from_link(browser, link, base, clinic, appointment)
            await page_eventually(page, f"""window.clinicDesk.groupStats().then(function (s) {{
                return s.parts["{staff}"] && s.parts["{staff}"].framesDecoded > 5; }})""",
                                  "the clinician's video on the page")
            # The page's camera: simulcast layers (Chrome sends two or three for 640x480).
            await page_eventually(page, """window.clinicDesk.groupStats().then(function (s) {
                return s.parts.publisher && s.parts.publisher.layersSent >= 2; })""",
                                  "two simulcast layers sent")
            await wait_until(lambda: (p := clinician.recorder.who("guest-1")) is not None
                             and p.video, "the page publishing")
            await clinician.session.show(["guest-1"])
            await wait_until(lambda: me.video_frames.get("guest-1", 0) >= 5, "the page's video")
            # Small tiles ask Janus for a lower layer, a large one for the full picture.
            await clinician.session.set_layer(FULL_LAYER)
            await wait_until(lambda: me.video_widths.get("guest-1", 0) >= 320, "the full layer")
            full = me.video_widths["guest-1"]
            await clinician.session.set_layer(QUARTER_LAYER)
            await wait_until(lambda: me.video_widths.get("guest-1", 0) < full, "a lower layer")

            # The clinician shares a screen: one large tile on the page, not a person.
            feed = screen_feed(staff)
            await clinician.session.share_screen(screen.video)
            await page_eventually(page, f"""window.clinicDesk.groupStats().then(function (s) {{
                return s.parts["{feed}"] && s.parts["{feed}"].framesDecoded > 5; }})""",
                                  "the shared screen decoded on the page")
            tile = page.locator(f'figure.group-screen[data-feed="{feed}"]')
            assert await tile.is_visible()
            assert "(screen)" in (await tile.locator("figcaption").text_content() or "")
            people = [p["id"] for p in (await stats(page))["people"]]
            assert feed not in people
            await screenshots(page, screenshot_dir, "group-call-screen-share")

            # Janus dies: the page says "reconnecting", then it is back by itself.
            janus.kill()
            await page.wait_for_selector('#group-state[data-state="reconnecting"]',
                                         timeout=20_000)
            janus.start()
            await page.wait_for_selector('#group-state[data-state="connected"]',
                                         timeout=30_000)
            await wait_until(lambda: me.reconnected >= 1, "the clinician back too")
            await page_eventually(page, f"""window.clinicDesk.groupStats().then(function (s) {{
                return s.parts["{staff}"] && s.parts["{staff}"].framesDecoded > 5; }})""",
                                  "the clinician's video again")
            await page_eventually(page, f"""window.clinicDesk.groupStats().then(function (s) {{
                return s.parts["{feed}"] && s.parts["{feed}"].framesDecoded > 3; }})""",
                                  "the shared screen again")
            await wait_until(lambda: (p := clinician.recorder.who("guest-1")) is not None
                             and p.video, "the page publishing again")
    finally:
        await clinician.close()
        screen.video.stop()


#: The page's view of a bad network: while `window.lossy` is set, every video receiver's
#: stats report another 1000 packets lost (this machine's kernel has no netem to lose them).
LOSSY_STATS = """(function () {
  var real = RTCPeerConnection.prototype.getStats;
  var extra = 0;
  RTCPeerConnection.prototype.getStats = function () {
    return real.apply(this, arguments).then(function (report) {
      if (!window.lossy) { return report; }
      extra += 1000;
      var changed = new Map();
      report.forEach(function (entry, key) {
        if (entry.type === "inbound-rtp" && entry.kind === "video") {
          entry = Object.assign({}, entry, { packetsLost: (entry.packetsLost || 0) + extra });
        }
        changed.set(key, entry);
      });
      return changed;
    });
  };
})();"""


@pytest.mark.asyncio
async def test_a_page_on_a_lossy_network_drops_layers_then_to_audio_only_and_comes_back(
    base: str, clinic: Clinic, engine: Engine
) -> None:
    appointment = book_group(engine, clinic, guests=1)
    link = f"{base}/join#{guest_link(engine, appointment, 1)}"
    async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
        answer = await http.post(
            f"/appointments/{appointment}/group-call", headers=clinic.auth("ng"))
    assert answer.status_code == 200, answer.text
    clinician = Participant(GroupJoin.model_validate(answer.json()), 300, camera=True)
    staff = clinician.session.join.id
    tile = f'figure.group-tile[data-feed="{staff}"]'
    decoded = f"""window.clinicDesk.groupStats().then(function (s) {{
        return s.parts["{staff}"].framesDecoded; }})"""
    await clinician.session.start()
    try:
        async with patient_browser() as browser:
            page = await device_checked(browser, link, LOSSY_STATS)
            await page.get_by_role("button", name="Join the group call").click()
            await page.wait_for_selector('#group-state[data-state="waiting"]', timeout=20_000)
            await admit(base, clinic.auth("ng"), appointment, "guest-1")
            await connected(page)
            await page_eventually(page, f"""window.clinicDesk.groupStats().then(function (s) {{
                return s.parts["{staff}"] && s.parts["{staff}"].framesDecoded > 5; }})""",
                                  "the clinician's video on the page")
            # Losing packets: the tile steps down its layers, then Janus stops its video.
            await page.evaluate("window.lossy = true")
            await page.wait_for_selector(f'{tile}[data-audio-only="true"]', timeout=60_000)
            assert await page.locator(f'{tile}[data-layer="0"]').count() == 1
            assert await page.locator(tile).is_visible()  # still in the call, name shown
            assert await page.locator("#group-state").get_attribute("data-state") == "connected"
            assert "video is paused" in (await page.locator("#status").text_content() or "")
            paused = await page.evaluate(decoded)
            await asyncio.sleep(2)
            assert await page.evaluate(decoded) <= paused + 2  # Janus sends it no video
            # The network steady again: the video comes back.
            await page.evaluate("window.lossy = false")
            await page.wait_for_selector(f'{tile}[data-audio-only="false"]', timeout=60_000)
            await page_eventually(page, f"""window.clinicDesk.groupStats().then(function (s) {{
                return s.parts["{staff}"].framesDecoded > {paused} + 10; }})""",
                                  "the video back once the network is steady")
    finally:
        await clinician.close()
