"""HL7 to the screen: an SIU^S12 sent over MLLP until its row is on a signed-in desktop's
schedule (through the server's commit, the realtime hub and the desktop's pull).

    .venv/bin/python bench/hl7_desktop_bench.py [--messages 50]

Target (issue 13): p95 <= 1 s. A real `clinic-desk-server serve --mllp-port` on loopback
(SQLite) and the real desktop application, offscreen. Also prints where the time goes, per
phase: send -> ACK (the server applied and committed), ACK -> the desktop's pull starts (the
realtime hint and the sync loop waking), the pull's HTTP round trip, and the pulled page
committed to the desktop's store, and the store's commit until the row is in the schedule's
model.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import keyring  # noqa: E402
import qasync  # noqa: E402
import server_harness  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.application import AppConfig, Application, SignedIn  # noqa: E402
from app.services.account_service import AccountService  # noqa: E402
from app.sync.sync_status import Connection  # noqa: E402
from tests.server.mllp_helpers import ack_code, sender, siu  # noqa: E402
from tests.server.postgres import free_port  # noqa: E402
from tests.server.server_process import create_user, served  # noqa: E402
from tests.sync.memory_keyring import MemoryKeyring  # noqa: E402

PASSWORD = "a long enough password"
PHASES = ("send->ACK", "ACK->pull starts", "pull (HTTP)", "page into the store",
          "stored->row in model")


class _TimedStore:
    """The desktop's local store, noting when each pulled page has been committed."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.applied: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def apply_page(self, *args: Any, **kwargs: Any) -> Any:
        future = self._store.apply_page(*args, **kwargs)
        future.add_done_callback(lambda _done: self.applied.append(time.perf_counter()))
        return future


class _TimedPulls:
    """The desktop's API client, noting when each pull starts and ends (nothing else changes)."""

    def __init__(self, api: Any) -> None:
        self._api = api
        self.pulls: list[tuple[float, float]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    async def pull(self, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        page = await self._api.pull(*args, **kwargs)
        self.pulls.append((began, time.perf_counter()))
        return page


async def wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        await asyncio.sleep(0.002)


async def measure(base: str, mllp_port: int, folder: Path, count: int
                  ) -> tuple[list[float], list[tuple[float, ...]]]:
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    accounts = AccountService(settings)
    account, api = await accounts.sign_in(base, "ng", PASSWORD)
    application = Application(AppConfig(folder / "data", False, settings),
                              signed_in=SignedIn(account, api, accounts))
    application.start()
    assert application.sync is not None
    sync = application.sync
    timed = _TimedPulls(sync.engine.api)
    sync.engine.api = timed  # type: ignore[assignment]
    stored = _TimedStore(sync.engine.store)
    sync.engine.store = stored  # type: ignore[assignment]
    await wait_for(lambda: sync.status.connection is Connection.ONLINE
                   and sync.realtime.connected)
    day = (datetime.now(UTC) + timedelta(days=1)).replace(hour=8, minute=0, second=0,
                                                          microsecond=0)
    application.window.navigator.set_date(day.astimezone().date())
    model = application.model
    await wait_for(lambda: model.shown_range is not None)
    latencies = []
    phases: list[tuple[float, ...]] = []
    with sender(mllp_port) as hl7:
        for number in range(count):
            start = day + timedelta(minutes=10 * number)
            message = siu("S12", f"D{number}", f"P{number}", filler=f"F{number}",
                          mrn=f"M{number}", minutes="10",
                          start=start.strftime("%Y%m%d%H%M%S") + "+0000")
            rows_before = model.rowCount()
            sent = time.perf_counter()
            ack = await asyncio.to_thread(hl7.send, message)
            if ack_code(ack) != "AA":
                raise SystemExit(f"refused: {ack}")
            acked = time.perf_counter()
            await wait_for(lambda rows=rows_before: model.rowCount() > rows)
            shown = time.perf_counter()
            latencies.append(shown - sent)
            # The pull that brought the row: the last one that ended before it showed (it may
            # start before the sender has read the ACK: the hint can overtake it).
            began, ended = next(((b, e) for b, e in reversed(timed.pulls) if e <= shown),
                                (acked, acked))
            committed = next((t for t in reversed(stored.applied) if ended <= t <= shown), ended)
            phases.append((acked - sent, began - acked, ended - began, committed - ended,
                           shown - committed))
    await application.stop_sync()
    application.shutdown()
    return latencies, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())  # never the machine's own keychain
    qt_app = QApplication([])
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    with server_harness.database(False) as url, tempfile.TemporaryDirectory() as folder:
        assert create_user(url, "ng", "clinician", PASSWORD).returncode == 0
        mllp_port = free_port()
        env = {"CLINIC_DESK_HL7_CLINICIANS": json.dumps({"D100": "ng"})}
        with served(url, "--mllp-port", str(mllp_port), env=env) as base:
            latencies, phases = loop.run_until_complete(
                measure(base, mllp_port, Path(folder), args.messages))
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"SIU^S12 over MLLP -> row on the desktop, {len(latencies)} messages: p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max "
          f"{latencies[-1] * 1000:.0f} ms   (target p95 <= 1000); load average "
          f"{os.getloadavg()[0]:.1f}")
    for number, name in enumerate(PHASES):
        times = sorted(phase[number] for phase in phases)
        print(f"  {name:<22} p50 {statistics.median(times) * 1000:6.0f} ms, "
              f"p95 {times[max(0, int(len(times) * 0.95) - 1)] * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
