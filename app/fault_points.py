"""Named points in the sync where the fault-injection tests kill the desktop process.

Set CLINIC_DESK_KILL_AT=<point> (e.g. "push-after-answer") and the process SIGKILLs itself
the first time it reaches that point, as a power cut would. Unset (always, in the product),
reached() does nothing.
"""

import os
import signal

_KILL_AT = os.environ.get("CLINIC_DESK_KILL_AT", "")


def reached(point: str) -> None:
    if _KILL_AT and point == _KILL_AT:
        kill = getattr(signal, "SIGKILL", None)
        if kill is None:
            os._exit(137)  # Windows: no SIGKILL; exit without cleanup just the same
        os.kill(os.getpid(), kill)
