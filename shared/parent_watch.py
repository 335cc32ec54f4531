"""A demo child process ends with the desktop that started it, also when that one is killed.

Two signals, either enough: the parent holds the write end of the child's stdin, so the child
reads end-of-file the moment the parent is gone, however it died; and on Linux the kernel sends
SIGTERM at the parent's death (PR_SET_PDEATHSIG). A parent already gone before the watch began
is caught by comparing the parent pid.
"""

import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO

log = logging.getLogger("clinicdesk.demo")

_PR_SET_PDEATHSIG = 1
#: After being asked to stop, the process has this long to do so on its own.
HARD_EXIT_SECONDS = 10.0


def _death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        log.warning("PR_SET_PDEATHSIG is not available; watching the pipe only")


def _hard_exit_later() -> None:
    timer = threading.Timer(HARD_EXIT_SECONDS, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


def watch_parent(parent_pid: int, pipe: BinaryIO, on_gone: Callable[[], None]) -> None:
    """Call `on_gone` (from a thread) once the parent has gone; it then must stop the process,
    which is ended hard if it has not after HARD_EXIT_SECONDS."""
    _death_signal()

    def gone() -> None:
        log.info("the desktop that started this process is gone: stopping")
        _hard_exit_later()
        on_gone()

    if os.getppid() != parent_pid:
        gone()
        return

    def read_until_closed() -> None:
        while pipe.read(4096):
            pass  # the parent writes nothing more: only the end of the pipe matters
        gone()

    threading.Thread(target=read_until_closed, name="parent-watch", daemon=True).start()


def exit_now(code: int) -> None:
    """Leave without the interpreter's shutdown: the watch thread is still blocked reading
    stdin, and the shutdown would abort on that lock with a fatal error."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
