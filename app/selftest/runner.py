"""Runs the self-test's steps in order in a scratch folder and prints the one-line report."""

import importlib
import io
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO, cast

from app.selftest.qt_platform import use_offscreen_unless_chosen
from app.selftest.report import StepFailed, StepOutcome, failure_line, ok_line

StepRun = Callable[[Path], str]

#: (step name, module whose `run(scratch) -> detail` performs it), in order. Modules load lazily
#: so that the Qt platform is chosen before anything imports Qt.
STEPS: tuple[tuple[str, str], ...] = (
    ("imports", "app.selftest.imports_step"),
    ("window", "app.selftest.window_step"),
    ("camera", "app.selftest.camera_step"),
    ("call", "app.selftest.call_step"),
    ("store", "app.selftest.store_step"),
)


def step_function(module_name: str) -> StepRun:
    return cast(StepRun, importlib.import_module(module_name).run)


def run_self_test(
    out: TextIO | None = None, steps: Sequence[tuple[str, str]] = STEPS
) -> int:
    """Run every step; print one line to `out` (stdout); return 0 if all passed, else 1.

    Stops at the first failing step. An unexpected exception's traceback goes to stderr.
    """
    # A windowed Windows build has no stdout at all; the exit code still tells.
    stream = out or sys.stdout or sys.stderr or io.StringIO()
    use_offscreen_unless_chosen()
    outcomes: list[StepOutcome] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(
        prefix="clinic-desk-selftest-", ignore_cleanup_errors=True
    ) as folder:
        scratch = Path(folder)
        for name, module_name in steps:
            step_started = time.monotonic()
            try:
                detail = step_function(module_name)(scratch)
            except StepFailed as failure:
                stream.write(failure_line(name, str(failure)) + "\n")
                stream.flush()
                return 1
            except Exception as error:
                if sys.stderr is not None:
                    traceback.print_exception(error, file=sys.stderr)
                stream.write(failure_line(name, f"{type(error).__name__}: {error}") + "\n")
                stream.flush()
                return 1
            outcomes.append(StepOutcome(name, detail, time.monotonic() - step_started))
    stream.write(ok_line(outcomes, time.monotonic() - started) + "\n")
    stream.flush()
    return 0
