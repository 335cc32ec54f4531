"""One place for errors nobody expected: log them with the traceback, tell the user plainly.

Installed as `sys.excepthook` and as the asyncio loop's exception handler (qasync's asyncSlot
reports through it), so no traceback ever reaches the user as raw text.
"""

import asyncio
import logging
import sys
import traceback
from types import TracebackType
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("clinicdesk.crash")


class CrashHandler:
    def __init__(self, log_path: str, show_dialog: bool = True) -> None:
        self._log_path = log_path
        self._show_dialog = show_dialog
        self._showing = False
        self.count = 0

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        sys.excepthook = self.excepthook
        if loop is not None:
            loop.set_exception_handler(self.loop_exception)

    def excepthook(
        self,
        kind: type[BaseException],
        error: BaseException,
        trace: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        self.count += 1
        log.error(
            "unexpected error\n%s", "".join(traceback.format_exception(kind, error, trace))
        )
        self._tell_user(f"{kind.__name__}")

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, BaseException):
            self.excepthook(type(error), error, error.__traceback__)
        else:
            self.count += 1
            log.error("unexpected error in the event loop: %s", context.get("message"))
            self._tell_user("event loop error")

    def _tell_user(self, what: str) -> None:
        if not self._show_dialog or self._showing or QApplication.instance() is None:
            return
        self._showing = True  # one dialog at a time, however many errors follow
        try:
            QMessageBox.critical(
                None,
                "Clinic Desk — something went wrong",
                "Clinic Desk ran into an unexpected problem "
                f"({what}). Your saved work is safe in the local store.\n\n"
                f"The details are in the log file:\n{self._log_path}\n\n"
                "If it happens again, please send that file to your IT support.",
            )
        finally:
            self._showing = False
