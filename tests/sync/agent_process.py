"""Running tests/sync/desk_agent.py in a subprocess, optionally to be killed at a fault point."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class Agent:
    def __init__(self, store: Path, url: str, username: str, clinician: str) -> None:
        self.args = [str(store), url, username, clinician]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_DESK_")}
        self.env |= {
            "PYTHONPATH": str(REPO),
            "PYTHON_KEYRING_BACKEND": "tests.sync.memory_keyring.FileKeyring",
            "CLINIC_DESK_TEST_KEYRING": str(store.with_suffix(".keyring.json")),
        }

    def run(self, *action: str, kill_at: str = "") -> subprocess.CompletedProcess[str]:
        env = self.env | ({"CLINIC_DESK_KILL_AT": kill_at} if kill_at else {})
        done = subprocess.run(
            [sys.executable, "-m", "tests.sync.desk_agent", *self.args, *action],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
        )
        if kill_at:
            assert done.returncode == -signal.SIGKILL, (kill_at, done.returncode, done.stderr)
        else:
            assert done.returncode == 0, done.stderr
        return done

    def listing(self) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self.run("list").stdout)
        return answer
