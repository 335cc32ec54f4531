"""Drain under fire: 500 offline bookings of new patients pushed while the server is SIGKILLed.

A real `clinic-desk-server` (SQLite) behind a loopback proxy that kills it as a push goes
through (every other push, so each outage follows one that made progress) and starts it again
at once; the desktop's sync engine uses the production backoff (0.5 s doubling to 30 s) and its
realtime socket, as the app wires them. Prints the drain time without kills and with N kills.

    .venv/bin/python bench/drain_kill_bench.py [--bookings 500] [--kills 8]

Target (issue 11): 500 bookings drained <= 30 s with 8 server kills.
"""

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402

from app.sync.backoff import Backoff  # noqa: E402
from app.sync.realtime_client import RealtimeClient  # noqa: E402
from tests.polling import eventually  # noqa: E402
from tests.server.server_process import LiveServer  # noqa: E402
from tests.sync.desk import Desk, tomorrow_at  # noqa: E402
from tests.sync.faulty_proxy import FaultyProxy  # noqa: E402
from tests.sync.live_server import seed_clinic  # noqa: E402
from tests.sync.memory_keyring import MemoryKeyring  # noqa: E402


class Killer:
    """Kills the server on every other push (up to `kills` times) and restarts it at once."""

    def __init__(self, live: LiveServer, kills: int) -> None:
        self.live = live
        self.left = kills
        self.pushes = 0
        self.restarts: list[threading.Thread] = []
        #: Seconds from each kill until the restarted server answered /healthz.
        self.downtimes: list[float] = []

    def on_push(self) -> None:
        self.pushes += 1
        if self.left > 0 and self.pushes % 2 == 1:
            self.left -= 1
            killed = time.perf_counter()
            self.live.kill()

            def restart() -> None:
                self.live.start()
                self.downtimes.append(time.perf_counter() - killed)

            thread = threading.Thread(target=restart)
            thread.start()
            self.restarts.append(thread)


async def drain(folder: Path, bookings: int, kills: int) -> tuple[float, int, float]:
    """Seconds from the first push to an empty outbox, the pushes it took, and the seconds
    the server was down (killed until it answered again)."""
    url = f"sqlite:///{folder / 'server.sqlite3'}"
    clinic = seed_clinic(url)
    live = LiveServer(url)
    live.start()
    proxy = FaultyProxy(live.port)
    proxy.start()
    desk = Desk(folder / "clerk.sqlite3", proxy.url, "clerk", backoff=Backoff())
    realtime = RealtimeClient(
        desk.api, on_changes=desk.engine.announce_head, on_presence=lambda _event: None,
        on_connected=lambda up: desk.engine.reconnected() if up else None,
        on_signed_out=lambda _message: None,
    )
    try:
        await desk.sign_in()
        await desk.sync()
        for number in range(bookings):
            start = tomorrow_at(7) + timedelta(minutes=2 * number)
            await desk.book(clinic.ids["ng"], start, f"Patient {number:04d}", minutes=2)
        killer = Killer(live, kills)
        proxy.on_push = killer.on_push
        began = time.perf_counter()
        desk.engine.start()
        realtime.start()

        async def drained() -> bool:
            return await desk.pending() == 0

        await eventually(drained, timeout=600)
        took = time.perf_counter() - began
        for restart in killer.restarts:
            restart.join()
        assert killer.left == 0, "fewer pushes than kills: use more bookings"
        return took, killer.pushes, sum(killer.downtimes)
    finally:
        await realtime.stop()
        await desk.close()
        proxy.close()
        live.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=500)
    parser.add_argument("--kills", type=int, default=8)
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())  # never the machine's own keychain
    figures = []
    for kills in (0, args.kills):
        with tempfile.TemporaryDirectory() as folder:
            took, pushes, down = asyncio.run(drain(Path(folder), args.bookings, kills))
        figures.append((kills, took, pushes, down))
    print()
    print(f"{args.bookings} offline bookings of new patients ({2 * args.bookings} mutations), "
          "real server (SQLite) on loopback, production backoff")
    for kills, took, pushes, down in figures:
        print(f"  server SIGKILLed {kills} times: drained in {took:6.1f} s ({pushes} pushes), "
              f"server down {down:5.1f} s of it" + ("   (target <= 30 s)" if kills else ""))
    (_, quiet, _, _), (_, noisy, _, down) = figures
    lost = noisy - quiet - down
    print(f"  time lost to the kills beyond the server's own downtime: {lost:.1f} s")


if __name__ == "__main__":
    main()
