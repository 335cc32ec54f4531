"""The group call's chat through a real Janus TextRoom: the desktop's GroupChat (aiortc data
channel) reaches everyone with name and time; a credential never opens another appointment's
chat; a removed participant's chat is closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest
import pytest_asyncio
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.media.group_chat import ChatMessage, GroupChat
from app.media.ice_config import IcePolicy
from app.media.janus_connection import JanusConnection, JanusGone, JanusRefused
from shared.group_call_protocol import GroupJoin
from tests.netns import VETH_ADDRESS
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_join, guest_link, staff_join
from tests.server.group_calls.peers import wait_until

#: TextRoom's "not on the allowed list".
TEXT_UNAUTHORIZED = 419


class Chatter:
    """One participant's own Janus session and chat, with what it heard."""

    def __init__(self, join: GroupJoin) -> None:
        self.janus = JanusConnection(join.janus_url, join.janus_token)
        self.heard: list[ChatMessage] = []
        self.chat = GroupChat(
            self.janus, join, IcePolicy(interfaces=(VETH_ADDRESS,)), self.heard.append
        )

    async def start(self) -> None:
        await self.janus.open()
        await self.chat.start()

    async def close(self) -> None:
        await self.chat.close()
        await self.janus.close()

    def texts(self) -> list[tuple[str, str, bool]]:
        return [(m.display, m.text, m.mine) for m in self.heard]


async def refused_by_the_room(join: GroupJoin) -> None:
    """`join` opens a Janus session but TextRoom refuses its join token for the room."""
    chatter = Chatter(join)
    try:
        with pytest.raises(JanusRefused) as refused:
            await chatter.start()
        assert refused.value.code == TEXT_UNAUTHORIZED
    finally:
        await chatter.close()


@pytest_asyncio.fixture
async def chatters(
    client: TestClient, clinic: Clinic, engine: Engine
) -> AsyncIterator[tuple[Chatter, Chatter, UUID]]:
    appointment = book_group(engine, clinic)
    clinician = Chatter(staff_join(client, clinic, "ng", appointment))
    guest = Chatter(guest_join(client, guest_link(engine, appointment, 1)))
    try:
        await clinician.start()
        await guest.start()
        yield clinician, guest, appointment
    finally:
        for chatter in (guest, clinician):
            await chatter.close()


@pytest.mark.asyncio
async def test_messages_reach_everyone_with_name_and_time(
    chatters: tuple[Chatter, Chatter, UUID],
) -> None:
    clinician, guest, _appointment = chatters
    assert clinician.chat.names.get("guest-1") == "Guest 1"
    await clinician.chat.send("Welcome, everyone")
    await guest.chat.send("<script>alert(1)</script> hello")
    expected = [("Ng", "Welcome, everyone"), ("Guest 1", "<script>alert(1)</script> hello")]
    for chatter in (clinician, guest):
        await wait_until(lambda c=chatter: len(c.heard) == 2, "both messages")  # type: ignore[misc]
        assert [(display, text) for display, text, _mine in chatter.texts()] == expected
    assert [m.mine for m in clinician.heard] == [True, False]
    assert [m.mine for m in guest.heard] == [False, True]
    assert all(m.at.tzinfo is not None for m in clinician.heard)


@pytest.mark.asyncio
async def test_a_removed_participant_leaves_the_chat_and_cannot_come_back(
    chatters: tuple[Chatter, Chatter, UUID], client: TestClient, clinic: Clinic
) -> None:
    clinician, guest, appointment = chatters
    removed = client.post(
        f"/appointments/{appointment}/group-call/participants/guest-1/remove",
        headers=clinic.auth("ng"),
    )
    assert removed.status_code == 200, removed.text
    await wait_until(lambda: guest.chat.closed is not None, "the guest's chat to close")
    with pytest.raises(JanusGone):
        await guest.chat.send("still here?")
    await clinician.chat.send("after the removal")
    await wait_until(lambda: len(clinician.heard) == 1, "the clinician's own message")
    assert guest.heard == []
    # Their credential no longer opens the text room (the token is off its allowed list).
    await refused_by_the_room(guest.chat.join)


@pytest.mark.asyncio
async def test_a_credential_never_opens_another_appointments_chat(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    mine = book_group(engine, clinic)
    other = book_group(engine, clinic)
    own = guest_join(client, guest_link(engine, mine, 1))
    theirs = staff_join(client, clinic, "ng", other)
    # The guest of `mine` tries `other`'s text room with their own join token.
    await refused_by_the_room(own.model_copy(update={"room": theirs.room}))
