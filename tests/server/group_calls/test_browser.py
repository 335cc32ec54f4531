"""Participants' browsers in a group call: two headless Chromium pages open their own links, pass
the device check, wait until the clinician admits them and join the appointment's rooms on a
real Janus (group-call.js speaking Janus's API), with the clinician as an aiortc participant:
video and audio both ways, chat to everyone, mute, remove, leave.

Everything runs inside the module's network namespace: the server (uvicorn in a thread), Janus,
Chromium (started from the test's thread while it is inside) and aiortc on 127.0.0.2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page
from sqlalchemy import Engine

from app.media.group_chat import ChatMessage, GroupChat
from shared.group_call_protocol import GroupJoin
from tests.server.axe_check import assert_clean_async
from tests.server.call_helpers import (
    device_checked,
    page_eventually,
    patient_browser,
    screenshots,
    shown,
)
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_link
from tests.server.group_calls.peers import Participant, wait_until

#: The clinician's tone; the pages' fake microphones beep.
CLINICIAN_TONE = 300


async def waiting_from_link(browser: Browser, url: str) -> Page:
    """A tab that opens a participant's link, passes the device check and asks to join: it
    waits in the waiting room for the clinician to let it in."""
    page = await device_checked(browser, url)
    await page.get_by_role("button", name="Join the group call").click()
    await shown(page, "group-call")
    await page.wait_for_selector('#group-state[data-state="waiting"]', timeout=20_000)
    assert "Waiting for the clinician to let you in" in await page.inner_text("#group-waiting")
    return page


async def admit(base: str, staff: dict[str, str], appointment: UUID, *who: str) -> None:
    async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
        answer = await http.post(
            f"/appointments/{appointment}/group-call/admit",
            json={"participants": list(who)},
            headers=staff,
        )
    assert answer.status_code == 200, answer.text


async def connected(page: Page) -> None:
    await page.wait_for_selector('#group-state[data-state="connected"]', timeout=20_000)
    assert await page.is_hidden("#group-waiting")


async def stats(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("window.clinicDesk.groupStats()")
    return result


async def receiving(page: Page, feed: str, frames: int) -> bool:
    part = (await stats(page))["parts"].get(feed)
    return part is not None and part.get("framesDecoded", 0) >= frames


@dataclass
class Room:
    clinician: Participant
    pages: dict[str, Page]
    base: str
    appointment: UUID
    #: The clinician's Authorization header.
    staff: dict[str, str]
    #: The clinician's chat, and what it heard.
    chat: GroupChat
    heard: list[ChatMessage]


@pytest_asyncio.fixture
async def room(
    base: str, clinic: Clinic, engine: Engine, screenshot_dir: Path | None
) -> AsyncIterator[Room]:
    appointment = book_group(engine, clinic)
    links = {f"guest-{n}": f"{base}/join#{guest_link(engine, appointment, n)}" for n in (1, 2)}
    async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
        answer = await http.post(
            f"/appointments/{appointment}/group-call", headers=clinic.auth("ng")
        )
    assert answer.status_code == 200, answer.text
    clinician = Participant(GroupJoin.model_validate(answer.json()), CLINICIAN_TONE, camera=True)
    heard: list[ChatMessage] = []
    chat = GroupChat(clinician.session.janus, clinician.session.join, clinician.session.ice,
                     heard.append)
    await clinician.session.start()
    try:
        async with patient_browser() as browser:
            pages = {name: await waiting_from_link(browser, url) for name, url in links.items()}
            # Admitted one by one: each page joins by itself (no reload), the other still waits.
            await admit(base, clinic.auth("ng"), appointment, "guest-1")
            await connected(pages["guest-1"])
            assert await pages["guest-2"].get_attribute("#group-state", "data-state") == "waiting"
            await assert_clean_async(pages["guest-2"], "group call, waiting to be admitted")
            await screenshots(pages["guest-2"], screenshot_dir, "group-call-waiting")
            await admit(base, clinic.auth("ng"), appointment, "guest-2")
            await connected(pages["guest-2"])
            await chat.start()
            yield Room(clinician, pages, base, appointment, clinic.auth("ng"), chat, heard)
    finally:
        await chat.close()
        await clinician.close()


def loud(samples: Any) -> bool:
    return len(samples) > 0 and max(abs(sample) for sample in samples) > 500


@pytest.mark.asyncio
async def test_browsers_join_and_media_flows_every_way(
    room: Room, screenshot_dir: Path | None
) -> None:
    clinician, first, second = room.clinician, room.pages["guest-1"], room.pages["guest-2"]
    me = clinician.recorder
    staff_id = clinician.session.join.id
    # The desktop's list: both guests in, each sending video.
    await wait_until(
        lambda: {(p.id, p.video) for p in me.heard.participants}
        >= {("guest-1", True), ("guest-2", True)},
        "both browsers in the clinician's list with video",
    )
    await clinician.session.show(["guest-1", "guest-2"])
    await wait_until(lambda: me.heard.video_frames.get("guest-1", 0) >= 10, "guest 1's video")
    await wait_until(lambda: me.heard.video_frames.get("guest-2", 0) >= 10, "guest 2's video")
    await wait_until(lambda: loud(me.heard.mix), "the browsers' microphones in the mix")

    # Each page shows the clinician's and the other page's tile, and plays a mix.
    for page, other in ((first, "guest-2"), (second, "guest-1")):
        for feed in (staff_id, other):
            await page_eventually(
                page,
                f"window.clinicDesk.groupStats().then(s => (s.parts[{feed!r}] || {{}})"
                ".framesDecoded >= 10)",
                what=f"{feed}'s video in the page",
            )
        await page_eventually(
            page,
            "window.clinicDesk.groupStats().then(s => (s.parts.mix || {}).audioEnergy > 0)",
            what="the mix playing in the page",
        )
        sent = (await stats(page))["parts"]["publisher"]
        assert sent["framesSent"] > 0
        # Every tile plays its picture (a <video> moved in the page would stand paused).
        await page_eventually(
            page,
            "Array.from(document.querySelectorAll('#group-tiles figure[data-feed] video'))"
            ".every(v => !v.paused && v.videoWidth > 0)",
            what="every tile playing",
        )
    names = await first.locator("#group-people .person-name").all_inner_texts()
    assert "Guest 1 (you)" in names and "Guest 2" in names and len(names) == 3
    captions = await first.locator("#group-tiles figure[data-feed] figcaption").all_inner_texts()
    assert sorted(captions) == sorted(
        [next(p.display for p in me.heard.participants if p.id == staff_id), "Guest 2"]
    )
    # Chat to everyone: the clinician's message reaches both pages, a page's (sent with Enter)
    # the clinician and the other page; markup in a message is shown as text.
    for page in (first, second):  # each page's chat joined (shown once it did)
        await page.wait_for_selector("#group-chat:not([hidden])")
    await room.chat.send("Welcome <b>both</b> of you")
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    await first.fill("#group-chat-text", attack)
    await first.press("#group-chat-text", "Enter")
    for page in (first, second):
        await page_eventually(
            page, "document.querySelectorAll('#group-chat-log li').length === 2", "two messages"
        )
        texts = await page.locator("#group-chat-log .chat-text").all_inner_texts()
        assert texts == ["Welcome <b>both</b> of you", attack]
        assert await page.evaluate("window.__pwned === undefined")
        assert await page.locator("#group-chat-log img, #group-chat-log script").count() == 0
    assert await first.locator("#group-chat-log .chat-who").all_inner_texts() == ["Ng", "You"]
    assert await second.locator("#group-chat-log .chat-who").all_inner_texts() == [
        "Ng", "Guest 1"
    ]
    assert await first.input_value("#group-chat-text") == ""
    await wait_until(lambda: len(room.heard) == 2, "both messages at the clinician's")
    assert [(m.display, m.text, m.mine) for m in room.heard] == [
        ("Ng", "Welcome <b>both</b> of you", True), ("Guest 1", attack, False)
    ]
    await assert_clean_async(first, "group call")
    await screenshots(first, screenshot_dir, "group-call")

    # Mute on a page: the clinician's list shows it.
    await second.get_by_role("button", name="Mute").click()
    await wait_until(lambda: (who := me.who("guest-2")) is not None and who.muted, "muted")
    await second.get_by_role("button", name="Unmute").wait_for()

    # Removed by the clinician: out of everyone's list, the page says so, a reload stays out.
    async with httpx.AsyncClient(base_url=room.base, trust_env=False) as http:
        removed = await http.post(
            f"/appointments/{room.appointment}/group-call/participants/guest-2/remove",
            headers=room.staff,
        )
    assert removed.status_code == 200, removed.text
    await second.wait_for_selector('#group-problem[data-reason="removed"]')
    assert "removed you" in await second.inner_text("#group-problem")
    await wait_until(lambda: me.who("guest-2") is None, "guest 2 gone from the clinician's list")
    await page_eventually(
        first, "document.querySelectorAll('#group-people li').length === 2", "guest 2 gone"
    )
    await page_eventually(
        first, "document.querySelectorAll('#group-tiles figure[data-feed]').length === 1", "tile"
    )
    await second.reload()
    await second.wait_for_selector('#group-problem[data-reason="problem"]')
    assert "removed you" in await second.inner_text("#group-problem")

    # Leaving: the clinician's list drops the guest, the page says the consultation ended.
    await first.get_by_role("button", name="Leave the call").click()
    await shown(first, "ended")
    await wait_until(lambda: me.who("guest-1") is None, "guest 1 gone from the clinician's list")
