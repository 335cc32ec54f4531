"""The phone call window's tests (test_window.py) in a pytest process of their own: something of
them outlives each test and broke later tests of the same process."""

import os
import subprocess
import sys
from pathlib import Path

from tests.server.phone_calls.test_window import OWN_PROCESS

ROOT = Path(__file__).resolve().parents[3]


def test_the_phone_call_window_with_a_real_phone() -> None:
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", **{OWN_PROCESS: "1"})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/server/phone_calls/test_window.py"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
