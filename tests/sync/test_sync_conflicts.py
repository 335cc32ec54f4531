"""Two desktops editing one appointment; a workstation clock an hour off; a time-zone change."""

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import ServerClock
from shared.enums import SyncState
from shared.errors import ValidationFailed
from tests.server.server_process import LiveServer
from tests.sync.desk import Desk, done, server_view, signed_in_desks, tomorrow_at
from tests.sync.live_server import LiveClinic


@pytest.mark.asyncio
async def test_two_desktops_edit_one_appointment(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    async with signed_in_desks(tmp_path, live.url, "clerk", "ng") as (clerk, doctor):
        booked = await clerk.book(clinic.ids["ng"], tomorrow_at(9), "Ada Lovelace")
        await clerk.sync()
        await doctor.sync()

        # Offline, each changes a different field: both changes are kept.
        await clerk.edit(await clerk.appointment(booked.id), notes="Interpreter: Portuguese")
        await doctor.edit(await doctor.appointment(booked.id), duration_minutes=30)
        await clerk.sync()
        await doctor.sync()
        await clerk.sync()
        for desk in (clerk, doctor):
            merged = await desk.appointment(booked.id)
            assert merged.notes == "Interpreter: Portuguese" and merged.duration_minutes == 30
            assert merged.sync_state is SyncState.SYNCED

        # Offline, both move the start: the first to reach the server wins; the other is
        # refused with the reason and keeps its data until fixed or discarded.
        await clerk.edit(await clerk.appointment(booked.id), start=tomorrow_at(14))
        await doctor.edit(await doctor.appointment(booked.id), start=tomorrow_at(15))
        await clerk.sync()
        await doctor.sync()
        refused = await doctor.appointment(booked.id)
        assert refused.sync_state is SyncState.REJECTED
        assert refused.start == tomorrow_at(15)
        assert "changed" in refused.sync_message.lower()
        await done(doctor.store.discard("appointment", booked.id))
        taken_back = await doctor.appointment(booked.id)
        assert taken_back.start == tomorrow_at(14) and taken_back.sync_state is SyncState.SYNCED
        assert await server_view(tmp_path, live.url) == [
            ["Ada Lovelace", tomorrow_at(14).isoformat(), "synced"]
        ]


class WrongClock(ServerClock):
    """A workstation whose clock is `skew` off."""

    def __init__(self, skew: timedelta) -> None:
        super().__init__()
        self.skew = skew

    def workstation_now(self) -> datetime:
        return datetime.now(UTC) + self.skew


@pytest.mark.asyncio
@pytest.mark.parametrize("hours", [1, -1])
async def test_a_workstation_clock_an_hour_off_uses_server_time(
    hours: int, tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    clock = WrongClock(timedelta(hours=hours))
    desk = Desk(tmp_path / "clerk.sqlite3", live.url, "clerk", clock=clock)
    try:
        await desk.sign_in()
        await desk.sync()
        assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
        # 30 minutes from now is bookable (an hour-fast clock would call it the past), and the
        # server agrees; a time 30 minutes ago is refused here already, as on the server.
        soon = (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0)
        booked = await desk.book(clinic.ids["ng"], soon, "Alan Turing")
        with pytest.raises(ValidationFailed):
            await desk.book(clinic.ids["ng"], soon - timedelta(hours=1), "Grace Hopper")
        await desk.sync()
        assert (await desk.appointment(booked.id)).sync_state is SyncState.SYNCED
    finally:
        await desk.close()


@pytest.fixture
def zone() -> Iterator[None]:
    before = os.environ.get("TZ")
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.asyncio
async def test_a_time_zone_change_moves_no_appointment(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic, zone: None
) -> None:
    os.environ["TZ"] = "Europe/London"
    time.tzset()
    desk = Desk(tmp_path / "clerk.sqlite3", live.url, "clerk")
    try:
        await desk.sign_in()
        await desk.sync()
        booked = await desk.book(clinic.ids["ng"], tomorrow_at(9), "Mary Seacole")
        os.environ["TZ"] = "Asia/Tokyo"  # the laptop flies east, mid-sync
        time.tzset()
        await desk.sync()
        again = await desk.appointment(booked.id)
        assert again.start == tomorrow_at(9)  # the same instant
        assert again.start.astimezone().utcoffset() == timedelta(hours=9)  # shown in Tokyo
        assert await server_view(tmp_path, live.url) == [
            ["Mary Seacole", tomorrow_at(9).isoformat(), "synced"]
        ]
    finally:
        await desk.close()
