"""Patient page benchmark: page load -> waiting room shown, and presence -> desktop event (p95).

Serves the real app on 127.0.0.1 (SQLite, or --postgres), drives Debian's chromium through
Playwright with a fake camera and microphone, and listens as a signed-in desktop. Per round:
  open    goto(link) -> the welcome page shown (the link checked);
  join    "Join the waiting room" pressed -> the waiting room connected;
  reload  page reload -> the waiting room shown and connected again (a full page load);
  entered "Join" pressed -> the desktop's WebSocket gets presence "entered";
  left    the tab closed -> the desktop gets "left" (after the leave grace: 2 s, which keeps
          a reload from looking like leaving).
Target: reload (page load -> waiting) <= 1 s on loopback.
"""

import argparse
import json
import sys
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server_harness import access_tokens, database, seed  # noqa: E402

from server.app import create_app  # noqa: E402
from server.database import create_db_engine  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.server.browser_helpers import ARGS, CHROMIUM  # noqa: E402
from tests.server.live_server import live  # noqa: E402
from tests.server.postgres import free_port  # noqa: E402

TIMEOUT_MS = 15_000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class DesktopListener:
    """A desktop's realtime socket read in a thread: presence events with their arrival time."""

    def __init__(self, base: str, token: str) -> None:
        self.events: Queue[tuple[float, dict[str, Any]]] = Queue()
        self._stack = ExitStack()
        self._socket = self._stack.enter_context(
            connect(base.replace("http", "ws", 1) + "/realtime")
        )
        self._socket.send(json.dumps({"type": "auth", "access_token": token}))
        assert json.loads(self._socket.recv(timeout=10))["type"] == "hello"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self._socket:
                event = json.loads(raw)
                if event["type"] == "presence":
                    self.events.put((time.perf_counter(), event))
        except Exception:  # the socket closed at the end
            return

    def wait(self, appointment: str, state: str) -> float:
        deadline = time.perf_counter() + 15
        while True:
            try:
                at, event = self.events.get(timeout=max(0.0, deadline - time.perf_counter()))
            except Empty:
                raise SystemExit(f"no presence {state} for {appointment}") from None
            if event["appointment_id"] == appointment:
                if event["state"] != state:
                    raise SystemExit(f"presence {event['state']} came before {state}")
                return at

    def close(self) -> None:
        self._stack.close()


def _shown(page: Page, step: str) -> None:
    page.wait_for_selector(f'body[data-showing="{step}"]', timeout=TIMEOUT_MS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    first_day = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0)
    with database(args.postgres) as url:
        seeded = seed(url, args.rounds, args.rounds, 1, first_day)
        clinician_token, clerk_token = access_tokens(url, [seeded.clinician, seeded.clerks[0]])
        port = free_port()
        settings = Settings(
            database_url=url,
            public_url=f"http://127.0.0.1:{port}",
        )
        engine = create_db_engine(url)
        app = create_app(settings, engine)
        names = ("open", "join", "reload", "entered", "left")
        times: dict[str, list[float]] = {name: [] for name in names}
        with live(app, port) as base, sync_playwright() as playwright:
            desk = DesktopListener(base, clinician_token)
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=ARGS, headless=True
            )
            headers = {"Authorization": f"Bearer {clerk_token}"}
            for appointment in seeded.appointments:
                aid = str(appointment)
                link = httpx.post(
                    f"{base}/appointments/{aid}/patient-link", json={}, headers=headers
                ).json()["url"]
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(link)
                _shown(page, "welcome")
                times["open"].append(time.perf_counter() - started)
                page.get_by_role("button", name="Continue").click()
                page.wait_for_selector('#camera-state[data-state="ok"]', timeout=TIMEOUT_MS)
                pressed = time.perf_counter()
                page.get_by_role("button", name="Join the waiting room").click()
                page.wait_for_selector('#connection[data-state="online"]', timeout=TIMEOUT_MS)
                times["join"].append(time.perf_counter() - pressed)
                times["entered"].append(desk.wait(aid, "entered") - pressed)
                started = time.perf_counter()
                page.reload()
                _shown(page, "waiting")
                page.wait_for_selector('#connection[data-state="online"]', timeout=TIMEOUT_MS)
                times["reload"].append(time.perf_counter() - started)
                closed = time.perf_counter()
                context.close()
                # A reload is no leaving: the next presence event is this "left".
                left_at = desk.wait(aid, "left")
                times["left"].append(left_at - closed)
            browser.close()
            desk.close()
        engine.dispose()
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(f"patient page on {kind}, {args.rounds} rounds (ms: median / p95 / max)")
    for name, values in times.items():
        ms = [v * 1000 for v in values]
        print(
            f"  {name:<8} {_percentile(ms, 0.5):7.1f} {_percentile(ms, 0.95):7.1f} {max(ms):7.1f}"
        )


if __name__ == "__main__":
    main()
