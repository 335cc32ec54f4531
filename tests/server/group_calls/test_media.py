"""Group-call media through a real Janus: aiortc participants (the desktop's GroupSession) publish
camera and microphone, subscribe to tiles, and hear one AudioBridge mix of the others."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_join, guest_link, staff_join
from tests.server.group_calls.peers import Participant, Recorder, tone_power, wait_until

#: Every tone sits on its own frequency, so the mix can be taken apart again.
TONES = {"clinician": 300, "guest-1": 440, "guest-2": 880}


@pytest_asyncio.fixture
async def room(
    client: TestClient, clinic: Clinic, engine: Engine
) -> AsyncIterator[dict[str, Participant]]:
    appointment = book_group(engine, clinic)
    joins = {
        "clinician": staff_join(client, clinic, "ng", appointment),
        "guest-1": guest_join(client, guest_link(engine, appointment, 1)),
        "guest-2": guest_join(client, guest_link(engine, appointment, 2)),
    }
    people = {
        name: Participant(join, TONES[name], camera=name != "guest-2")
        for name, join in joins.items()
    }
    try:
        for person in people.values():
            await person.session.start()
        yield people
    finally:
        for person in people.values():
            await person.close()


@pytest.mark.asyncio
async def test_tiles_and_the_mix_carry_everyone(room: dict[str, Participant]) -> None:
    clinician, first, second = room["clinician"], room["guest-1"], room["guest-2"]
    me = clinician.recorder
    everyone = {
        (clinician.session.join.id, "Ng", True),
        ("guest-1", "Guest 1", True),
        ("guest-2", "Guest 2", False),
    }
    await wait_until(
        lambda: {(p.id, p.display, p.video) for p in me.heard.participants} == everyone,
        "everyone in the list, with who sends video",
    )
    # Video: the clinician shows the guest's tile; the guest shows the clinician's.
    await clinician.session.show(["guest-1"])
    await first.session.show([clinician.session.join.id])
    await wait_until(lambda: me.heard.video_frames.get("guest-1", 0) >= 10, "the guest's video")
    await wait_until(
        lambda: first.recorder.heard.video_frames.get(clinician.session.join.id, 0) >= 10,
        "the clinician's video at the guest",
    )

    # Audio: one mix of the others, never one's own voice.
    def hears(recorder: Recorder, tone: int) -> bool:
        heard = recorder.heard
        return len(heard.mix) > 1000 and tone_power(heard.mix, heard.mix_rate, tone) > 0.05

    await wait_until(lambda: hears(me, TONES["guest-1"]) and hears(me, TONES["guest-2"]), "mix")
    assert not hears(me, TONES["clinician"])
    await wait_until(lambda: hears(second.recorder, TONES["clinician"]), "the guest's mix")
    # Janus's talking events mark the guests speaking.
    await wait_until(lambda: (who := me.who("guest-2")) is not None and who.talking, "talking")

    # Muting: everyone's list shows it, and the tone leaves the mix.
    await second.session.set_muted(True)
    await wait_until(lambda: (who := me.who("guest-2")) is not None and who.muted, "muted")
    assert not me.who("guest-2").talking  # type: ignore[union-attr]
    await wait_until(lambda: not hears(me, TONES["guest-2"]), "the muted tone to go")
    assert hears(me, TONES["guest-1"])
