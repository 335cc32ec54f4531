"""Spin Qt's event loop until a condition holds or a deadline passes (no qasync needed)."""

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Process Qt events until `condition()` is true; False if `timeout` seconds passed first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        # The store worker answers from its own thread; give it the CPU between rounds.
        time.sleep(0.005)
    return True
