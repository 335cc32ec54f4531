"""The server runs without the desktop's code: it imports `shared`, never `app` (issue #18)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

IMPORT_ALL_OF_SERVER = """
import importlib, pkgutil, sys
import server
for module in pkgutil.walk_packages(server.__path__, "server."):
    importlib.import_module(module.name)
desktop = sorted(name for name in sys.modules if name == "app" or name.startswith("app."))
print("\\n".join(desktop))
"""


def test_no_server_module_imports_the_desktop_package() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_OF_SERVER],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"the server imported desktop modules:\n{done.stdout}"
