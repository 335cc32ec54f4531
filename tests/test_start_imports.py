"""The schedule's first window loads what it shows and nothing more: WebRTC, media, the server
and the HTTP stack load behind it (issue 17; bench/start_bench.py measures what it saves)."""

import json
import subprocess
import sys
from pathlib import Path

#: Packages the first window must not wait for (each costs tens to hundreds of ms to import).
NOT_BEFORE_THE_WINDOW = ("aiortc", "av", "aioice", "pylibsrtp", "cryptography", "OpenSSL",
                         "server", "fastapi", "uvicorn", "httpx", "httpcore",
                         "app.services.call_service", "app.services.group_call_service",
                         "app.ui.call", "app.ui.group_call")


def _loaded(names: list[str], package: str) -> list[str]:
    return [name for name in names if name == package or name.startswith(package + ".")]


def test_the_first_window_imports_no_calls_media_server_or_http(tmp_path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-m", "tests.start_imports_probe", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )
    assert probe.returncode == 0, probe.stderr
    modules = json.loads(probe.stdout)
    early = {package: _loaded(modules["at_first_day"], package)
             for package in NOT_BEFORE_THE_WINDOW}
    assert {package: names for package, names in early.items() if names} == {}
    # The probe is not blind: the same names are there once the calls have loaded.
    later = modules["after"]
    for package in ("aiortc", "av", "app.services.call_service", "app.ui.call"):
        assert _loaded(later, package), package
