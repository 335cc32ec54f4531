"""`python -m app.demo.patient_runner`: the demo's simulated patients, a child of the desktop.

Reads one JSON line on stdin: {"server_url": ..., "patients": [{"name", "link",
"enter_after", "leave_after"}]} (seconds from now); each patient then visits on their own (app/demo/
demo_patient.py). Stdin stays open: its end means the desktop is gone, and so are the patients.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys

from app.demo.demo_patient import DemoPatient
from shared.demo_people import DemoArrival
from shared.parent_watch import exit_now, watch_parent

log = logging.getLogger("clinicdesk.demo")


async def run(server_url: str, plans: list[DemoArrival], parent_pid: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def parent_gone() -> None:
        loop.call_soon_threadsafe(stop.set)

    watch_parent(parent_pid, sys.stdin.buffer, parent_gone)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    started = loop.time()
    visits = [asyncio.ensure_future(_visit(DemoPatient(server_url, plan), started))
              for plan in plans]
    await stop.wait()
    for visit in visits:
        visit.cancel()
    await asyncio.gather(*visits, return_exceptions=True)


async def _visit(patient: DemoPatient, started: float) -> None:
    try:
        await patient.visit(started)
    except (OSError, ConnectionError) as error:
        log.warning("%s could not reach the waiting room: %s", patient.plan.name, error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.demo.patient_runner")
    parser.add_argument("--parent-pid", type=int, required=True)
    parent_pid = parser.parse_args(argv).parent_pid
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The name cards are painted with QPainter: an offscreen QGuiApplication, no window.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication

    qt = QGuiApplication(sys.argv[:1])
    request = json.loads(sys.stdin.buffer.readline() or b"{}")
    plans = [DemoArrival.from_json(value) for value in request.get("patients", [])]
    asyncio.run(run(request["server_url"], plans, parent_pid))
    del qt
    return 0


if __name__ == "__main__":
    exit_now(main())
