"""Janus dies mid-call and comes back: everyone hears "reconnecting", asks the server again (the
rooms are recreated, the clinician's decisions kept) and is back in by themselves; and a screen
shared into the room reaches the others as a feed of its own. Real Janus, aiortc participants."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from uuid import UUID

import pytest
import pytest_asyncio
from aiortc.contrib.media import MediaPlayer
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from app.media.group_session import RejoinRefused, Renew, screen_feed
from shared.group_call_protocol import GroupJoin
from tests.janus_server import JanusServer
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_join, guest_link
from tests.server.group_calls.peers import Participant, tone_power, wait_until

GUEST_TONE = 440


def asking(post: Callable[[], Response]) -> Renew:
    """A participant's way back in: the server's answer, its refusals final."""

    async def renew() -> GroupJoin:
        # The server's own test client: blocking the loop for one request is fine here.
        answer = post()
        if answer.status_code in (403, 409, 410, 423):
            raise RejoinRefused(answer.json()["message"])
        if answer.status_code != 200:
            raise RuntimeError(f"not yet: {answer.status_code} {answer.text}")
        return GroupJoin.model_validate(answer.json())

    return renew


@pytest_asyncio.fixture
async def call(
    client: TestClient, clinic: Clinic, engine: Engine
) -> AsyncIterator[tuple[Participant, Participant, str]]:
    appointment = book_group(engine, clinic, guests=2)
    link = guest_link(engine, appointment, 1)
    as_staff = asking(lambda: client.post(
        f"/appointments/{appointment}/group-call", headers=clinic.auth("ng")))
    as_guest = asking(lambda: client.post("/patient/group-call", json={"token": link}))
    clinician = Participant(await as_staff(), 300, camera=True, renew=as_staff)
    # Admitted once (asked, then let in); asking again after a restart needs no second admit.
    guest = Participant(guest_join(client, link), GUEST_TONE, camera=True, renew=as_guest)
    try:
        for person in (clinician, guest):
            await person.session.start()
        yield clinician, guest, str(appointment)
    finally:
        for person in (clinician, guest):
            await person.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["killed", "stopped"])
async def test_janus_gone_mid_call_everyone_rejoins_with_the_clinicians_decisions(
    call: tuple[Participant, Participant, str], janus: JanusServer, client: TestClient,
    clinic: Clinic, engine: Engine, how: str,
) -> None:
    """`killed`: SIGKILL, nobody told; `stopped`: SIGTERM, Janus closing its sessions first."""
    clinician, guest, appointment = call
    me = clinician.recorder.heard
    await wait_until(lambda: (p := clinician.recorder.who("guest-1")) is not None and p.video,
                     "the guest publishing")
    await clinician.session.show(["guest-1"])
    await wait_until(lambda: me.video_frames.get("guest-1", 0) >= 5, "the guest's video")
    # The clinician locks the room and mutes the guest before Janus dies.
    controls = f"/appointments/{appointment}/group-call"
    locked = client.post(f"{controls}/lock", json={"locked": True}, headers=clinic.auth("ng"))
    assert locked.status_code == 200, locked.text
    muted = client.post(f"{controls}/participants/guest-1/mute", json={"muted": True},
                        headers=clinic.auth("ng"))
    assert muted.status_code == 200, muted.text
    await wait_until(lambda: (p := clinician.recorder.who("guest-1")) is not None and p.muted,
                     "the guest muted in the clinician's list")

    if how == "killed":
        janus.kill()
    else:
        janus.stop()
    await wait_until(lambda: me.reconnecting and guest.recorder.heard.reconnecting,
                     "both told they are reconnecting")
    assert "reconnecting" in me.reconnecting[0]
    assert clinician.recorder.who("guest-1") is None  # nobody listed while out of the rooms
    janus.start()
    await wait_until(lambda: me.reconnected == 1 and guest.recorder.heard.reconnected == 1,
                     "both back in the rooms")
    assert not me.ended and not guest.recorder.heard.ended
    # Back as before: the guest (let in again although the room is locked: they were in before)
    # in the list, still muted, their tile showing video again, which the clinician shows anew.
    await wait_until(lambda: (p := clinician.recorder.who("guest-1")) is not None and p.muted,
                     "the guest back, still muted")
    before = me.video_frames.get("guest-1", 0)
    await wait_until(lambda: me.video_frames.get("guest-1", 0) >= before + 10,
                     "the guest's video after the restart")
    # The guest unmutes: their tone is in the clinician's mix again.
    await guest.session.set_muted(False)
    await wait_until(
        lambda: len(me.mix) > 1000 and tone_power(me.mix, me.mix_rate, GUEST_TONE) > 0.2,
        "the guest's tone in the mix after the restart",
    )
    # A newcomer is still refused: the lock outlived Janus.
    newcomer = guest_link(engine, UUID(appointment), 2)
    refused = client.post("/patient/group-call", json={"token": newcomer})
    assert refused.status_code == 423, refused.text


@pytest.mark.asyncio
async def test_a_screen_shared_into_the_room_reaches_the_others_as_its_own_feed(
    call: tuple[Participant, Participant, str],
) -> None:
    clinician, guest, _appointment = call
    heard = guest.recorder.heard
    await wait_until(lambda: (p := guest.recorder.who(clinician.session.join.id)) is not None
                     and p.video, "the clinician publishing")
    screen = MediaPlayer("smptehdbars=size=1280x720:rate=15", format="lavfi")
    assert screen.video is not None
    feed = screen_feed(clinician.session.join.id)
    try:
        await clinician.session.share_screen(screen.video)
        await wait_until(lambda: feed in heard.screens, "the share announced to the guest")
        assert heard.screens[feed] == "Ng (screen)"
        # A share is no person: the list holds the clinician once.
        assert [p.id for p in heard.participants].count(clinician.session.join.id) == 1
        assert feed not in [p.id for p in heard.participants]
        await guest.session.show([feed, clinician.session.join.id])
        await wait_until(lambda: heard.video_frames.get(feed, 0) >= 10, "the screen's frames")
        await wait_until(lambda: heard.video_frames.get(clinician.session.join.id, 0) >= 5,
                         "the camera still there beside it")
        await clinician.session.stop_screen_share()
        await wait_until(lambda: feed not in heard.screens, "the share gone from the room")
    finally:
        screen.video.stop()
