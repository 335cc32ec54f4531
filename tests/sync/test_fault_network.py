"""A flaky network and a dying server between the desktop and the server (a real server
process behind a misbehaving proxy): nothing lost, nothing doubled, the queue drains itself."""

import itertools
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.sync.api_client import ApiClient
from app.sync.backoff import Backoff
from app.sync.errors import Offline
from app.sync.token_store import TokenStore
from shared.enums import SyncState
from tests.polling import eventually
from tests.server.server_process import LiveServer
from tests.sync.desk import Desk, done, server_view, signed_in_desks, tomorrow_at
from tests.sync.faulty_proxy import FaultyProxy
from tests.sync.live_server import PASSWORD, LiveClinic


@pytest.fixture
def proxy(live: LiveServer) -> Iterator[FaultyProxy]:
    flaky = FaultyProxy(live.port)
    flaky.start()
    yield flaky
    flaky.close()


async def offline_bookings(desk: Desk, clinic: LiveClinic, count: int) -> None:
    for number in range(count):
        start = tomorrow_at(8) + timedelta(minutes=10 * number)
        await desk.book(clinic.ids["ng"], start, f"Patient {number:04d}", minutes=10)


def expected(count: int) -> list[str]:
    return [f"Patient {number:04d}" for number in range(count)]


async def drained(desk: Desk) -> bool:
    return await desk.pending() == 0


async def check_converged(desk: Desk, tmp_path: Path, url: str, count: int) -> None:
    mine = sorted([a.patient.name, a.start.isoformat(), a.sync_state.value]
                  for a in await desk.appointments())
    assert [row[0] for row in mine] == expected(count)
    assert {row[2] for row in mine} == {SyncState.SYNCED.value}
    assert await server_view(tmp_path, url) == mine


@pytest.mark.asyncio
async def test_500s_and_503s_for_a_while_then_the_queue_drains_by_itself(
    tmp_path: Path, live: LiveServer, proxy: FaultyProxy, clinic: LiveClinic
) -> None:
    async with signed_in_desks(tmp_path, proxy.url, "clerk") as [desk]:
        await offline_bookings(desk, clinic, 20)
        proxy.set_mode("fail", failures=6)
        desk.engine.start()  # one wake-up; no local write comes after this
        await eventually(lambda: drained(desk))
        assert proxy.failures_left == 0
        await check_converged(desk, tmp_path, live.url, 20)


@pytest.mark.asyncio
async def test_answers_lost_after_the_server_committed_are_not_applied_twice(
    tmp_path: Path, live: LiveServer, proxy: FaultyProxy, clinic: LiveClinic
) -> None:
    async with signed_in_desks(tmp_path, proxy.url, "clerk") as [desk]:
        await offline_bookings(desk, clinic, 10)
        proxy.set_mode("drop_push")
        desk.engine.start()

        async def lost_twice() -> bool:
            return proxy.dropped_answers >= 2

        await eventually(lost_twice)
        assert await desk.pending() > 0  # the desktop never heard back
        proxy.set_mode("pass")
        await eventually(lambda: drained(desk))
        await check_converged(desk, tmp_path, live.url, 10)


@pytest.mark.asyncio
async def test_a_lost_refresh_answer_does_not_sign_the_desktop_out(
    live: LiveServer, proxy: FaultyProxy, clinic: LiveClinic
) -> None:
    tokens = TokenStore()
    api = ApiClient(proxy.url, "clerk", tokens)
    try:
        await api.login(PASSWORD)
        stale = api.access_token
        first = tokens.load(proxy.url, "clerk")
        proxy.set_mode("drop_refresh")  # also cuts the open connection: that try may not get far
        for _ in range(5):
            with pytest.raises(Offline):
                await api.refresh(stale=stale)  # the server rotated; the answer never came
            if proxy.dropped_answers:
                break
        assert proxy.dropped_answers == 1
        assert tokens.load(proxy.url, "clerk") == first  # the desktop never heard back
        proxy.set_mode("pass")
        renewed = await api.refresh(stale=stale)  # the same refresh token, sent again
        second = tokens.load(proxy.url, "clerk")
        assert second not in (None, first)
        assert (await api.me()).username == "clerk"
        await api.refresh(stale=renewed)  # and the session rotates on
        assert tokens.load(proxy.url, "clerk") not in (None, first, second)
    finally:
        await api.close()


@pytest.mark.asyncio
async def test_server_killed_mid_push_and_restarted(
    tmp_path: Path, live: LiveServer, proxy: FaultyProxy, clinic: LiveClinic
) -> None:
    killed = threading.Event()

    def kill_soon() -> None:
        if not killed.is_set():
            killed.set()
            threading.Timer(0.02, live.kill).start()  # while it works through the batch

    async with signed_in_desks(tmp_path, proxy.url, "clerk") as [desk]:
        await offline_bookings(desk, clinic, 60)  # 120 mutations: two pushes
        proxy.on_push = kill_soon
        desk.engine.start()

        async def dead() -> bool:
            return killed.is_set() and not live.running

        await eventually(dead)
        assert await desk.pending() > 0
        live.start()
        await eventually(lambda: drained(desk), timeout=30)
        await check_converged(desk, tmp_path, live.url, 60)


class StreakBackoff(Backoff):
    """The engine's backoff, noting how many failures in a row each delay followed."""

    def __init__(self) -> None:
        super().__init__(base=0.05, cap=0.5)
        self.streaks: list[int] = []

    def next_delay(self, retry_after: float | None = None) -> float:
        self.streaks.append(self.failures)
        return super().next_delay(retry_after)


@pytest.mark.asyncio
async def test_a_push_that_gets_through_starts_the_backoff_again(
    tmp_path: Path, live: LiveServer, proxy: FaultyProxy, clinic: LiveClinic
) -> None:
    pushes = itertools.count(1)
    kills: list[int] = []

    def kill_first_and_third() -> None:
        # Push 1 (batch 1) dies with the server; push 2 is its retry, which gets through;
        # push 3 (batch 2) dies again: one sync cycle that never completes in between.
        push = next(pushes)
        if push in (1, 3):
            live.kill()
            kills.append(push)  # only now: kill() is done with the process handle

    backoff = StreakBackoff()
    desk = Desk(tmp_path / "clerk.sqlite3", proxy.url, "clerk", backoff=backoff)
    try:
        await desk.sign_in()
        await desk.sync()
        await offline_bookings(desk, clinic, 60)  # 120 mutations: two pushes
        proxy.on_push = kill_first_and_third
        desk.engine.start()
        for outage in (1, 2):

            async def down(outage: int = outage) -> bool:
                return len(kills) == outage

            await eventually(down)
            live.start()
        await eventually(lambda: drained(desk), timeout=30)
        # Failures count from zero again in the second outage: push 2 reset the backoff (the
        # cycle itself never completed in between, so nothing else did).
        assert backoff.streaks[0] == 0 and 0 in backoff.streaks[1:], backoff.streaks
        await check_converged(desk, tmp_path, live.url, 60)
    finally:
        await desk.close()


@pytest.mark.asyncio
async def test_an_unstorable_change_in_the_outbox_waits_under_needs_attention(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    async with signed_in_desks(tmp_path, live.url, "clerk") as [desk]:
        await offline_bookings(desk, clinic, 6)
        # An older Clinic Desk let a NUL into a patient's name: the server can never store it.
        with sqlite3.connect(desk.store.path) as raw:
            seq, payload = raw.execute(
                "SELECT seq, payload FROM outbox WHERE intent = 'patient.upsert' "
                "ORDER BY seq LIMIT 1 OFFSET 2").fetchone()
            fields = json.loads(payload)
            fields["name"] = "Patient\x000002"
            raw.execute("UPDATE outbox SET payload = ? WHERE seq = ?", (json.dumps(fields), seq))
        await desk.sync()
        assert await desk.pending() == 0  # nothing is stuck behind it
        refused = await done(desk.store.rejected())
        assert [r.message for r in refused if "Patient 0002" in r.title] != []
        assert any("control character" in r.message for r in refused), refused
        assert all("Patient 0002" in r.title for r in refused), refused
        synced = [row[0] for row in await server_view(tmp_path, live.url)]
        assert synced == [name for name in expected(6) if name != "Patient 0002"]
