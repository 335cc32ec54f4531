"""The desktop process killed (SIGKILL) at each step of a sync, then started again: nothing is
lost, nothing doubled, and it converges to the server's state."""

from pathlib import Path

import pytest

from tests.server.server_process import LiveServer
from tests.sync.agent_process import Agent
from tests.sync.desk import Desk, server_view, tomorrow_at
from tests.sync.live_server import LiveClinic


@pytest.mark.asyncio
@pytest.mark.parametrize("point", ["local-write", "push-before-send", "push-after-answer"])
async def test_killed_while_sending(
    point: str, tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    agent = Agent(tmp_path / "clerk.sqlite3", live.url, "clerk", str(clinic.ids["ng"]))
    agent.run("sync")  # signed in once, directory known
    if point == "local-write":
        agent.run("book", "5", "0", kill_at=point)  # dies right after the first booking
        assert agent.listing()["pending"] == 2  # that booking survived: patient + appointment
        agent.run("book", "4", "1")  # the clerk books the rest after the restart
    else:
        agent.run("book", "5", "0")
        agent.run("sync", kill_at=point)
    agent.run("sync")  # restarted: sends what is left, repeats what was unanswered
    mine = agent.listing()
    assert mine["pending"] == 0
    names = [row[0] for row in mine["appointments"]]
    assert names == [f"Patient {n:04d}" for n in range(5)]
    assert {row[2] for row in mine["appointments"]} == {"synced"}
    assert await server_view(tmp_path, live.url) == mine["appointments"]


@pytest.mark.asyncio
@pytest.mark.parametrize("point", ["pull-before-apply", "pull-before-cursor"])
async def test_killed_while_receiving(
    point: str, tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    agent = Agent(tmp_path / "clerk.sqlite3", live.url, "clerk", str(clinic.ids["ng"]))
    agent.run("sync")
    doctor = Desk(tmp_path / "ng.sqlite3", live.url, "ng")
    try:
        await doctor.sign_in()
        await doctor.sync()
        for number in range(3):
            await doctor.book(clinic.ids["ng"], tomorrow_at(13, 10 * number), f"Walk-in {number}",
                              minutes=10)
        await doctor.sync()
    finally:
        await doctor.close()
    agent.run("sync", kill_at=point)
    assert agent.listing()["appointments"] == []  # the page never landed
    agent.run("sync")
    mine = agent.listing()
    assert [row[0] for row in mine["appointments"]] == ["Walk-in 0", "Walk-in 1", "Walk-in 2"]
    assert await server_view(tmp_path, live.url) == mine["appointments"]
