"""A clerk books 500 appointments offline, quits, starts again offline, edits some; then the
network comes back: all reach the server exactly once, in order, and every desktop converges."""

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from shared.enums import SyncState
from tests.polling import eventually
from tests.server.server_process import LiveServer
from tests.sync.desk import Desk, server_view, tomorrow_at
from tests.sync.faulty_proxy import FaultyProxy
from tests.sync.live_server import LiveClinic

BOOKINGS = 500


def server_creation_order(database_url: str) -> list[str]:
    """Patient names of the appointments in the order the server first recorded them."""
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            """SELECT p.name FROM change c
               JOIN appointment a ON lower(replace(a.id, '-', '')) =
                                     lower(replace(c.entity_id, '-', ''))
               JOIN patient p ON p.id = a.patient_id
               WHERE c.entity_type = 'appointment' AND c.deleted = 0
               GROUP BY a.id ORDER BY min(c.seq)"""
        ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.asyncio
async def test_500_offline_bookings_survive_a_restart_and_arrive_once_in_order(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic, clinic_db: tuple[str, LiveClinic]
) -> None:
    network = FaultyProxy(live.port)
    network.start()
    path = tmp_path / "clerk.sqlite3"
    desk = Desk(path, network.url, "clerk")
    try:
        await desk.sign_in()
        await desk.sync()
        network.set_mode("down")  # the hospital network goes away for days
        for number in range(BOOKINGS):
            start = tomorrow_at(7) + timedelta(minutes=5 * number)
            await desk.book(clinic.ids["ng"], start, f"Patient {number:04d}", minutes=5)
        desk.engine.start()  # it tries, and keeps the queue
        await eventually(lambda: _offline(desk))
        await desk.close()

        desk = Desk(path, network.url, "clerk")  # the app starts again, still offline
        assert await desk.pending() == 2 * BOOKINGS
        edited = []
        for appointment in (await desk.appointments())[::10]:
            edited.append(await desk.edit(appointment, notes="Bring your medication list"))
        assert all(a.sync_state is SyncState.PENDING for a in edited)

        network.set_mode("pass")  # the network is back
        await desk.sign_in()
        desk.engine.start()

        async def drained() -> bool:
            return await desk.pending() == 0

        await eventually(drained, timeout=60)
        mine = await desk.appointments()
        assert len(mine) == BOOKINGS
        assert all(a.sync_state is SyncState.SYNCED for a in mine)
        assert sum(a.notes == "Bring your medication list" for a in mine) == len(edited)

        theirs = await server_view(tmp_path, live.url)  # Dr Ng's desktop, pulled fresh
        assert theirs == sorted([a.patient.name, a.start.isoformat(), "synced"] for a in mine)
        assert server_creation_order(clinic_db[0]) == [
            f"Patient {number:04d}" for number in range(BOOKINGS)
        ]
    finally:
        await desk.close()
        network.close()


async def _offline(desk: Desk) -> bool:
    return any(status.connection.value == "offline" for status in desk.statuses)
