"""The PyInstaller bundle builds from installer/clinic-desk.spec and passes its own self-test."""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip(
    "PyInstaller", reason="PyInstaller is not installed (pip install -e '.[dev]' brings it)"
)

from installer.bundle_cache import Bundle, bundle  # noqa: E402

OK_LINE = re.compile(r"^clinic-desk self-test: ok \(.*call vp8 .*store v\d+ .*\)$", re.MULTILINE)
REQUIRED_FILES = (
    "_internal/resources/icons/app-icon.svg",
    "_internal/resources/icons/status-waiting.svg",
    "_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "_internal/PySide6/Qt/plugins/platforms/libqxcb.so",
    "_internal/PySide6/Qt/plugins/iconengines/libqsvgicon.so",
    "_internal/PySide6/Qt/plugins/imageformats/libqsvg.so",
)
#: Never in the desktop bundle: the server, dev tools, the build machine's GTK.
FORBIDDEN = re.compile(r"(^|/)(server|mypy|pytest|psycopg[^/]*|libgtk-3[^/]*|libqgtk3\.so)(/|$)")


def show(config: pytest.Config, text: str) -> None:
    """Write a figure for the packaging note to the terminal, even while pytest captures."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stdout.write(f"\n[bundle] {text}\n")


@pytest.fixture(scope="module")
def built(pytestconfig: pytest.Config) -> Iterator[Bundle]:
    result = bundle()
    size = result.size_bytes() / 1e6
    how = f"built in {result.build_seconds:.1f}s" if result.build_seconds else "from cache"
    show(pytestconfig, f"{result.folder} {how}, {size:.0f} MB on disk")
    yield result


def isolated_env(tmp_path: Path, platform: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "PYTHON"))}
    home = tmp_path / "home"
    home.mkdir()
    # The bundle must not lean on the dev install: no venv, no repo on the path.
    env.pop("VIRTUAL_ENV", None)
    env.update(HOME=str(home), QT_QPA_PLATFORM=platform, PATH="/usr/bin:/bin")
    return env


def run_self_test(executable: Path, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [str(executable), "--self-test"], env=env, cwd=cwd,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert OK_LINE.search(result.stdout), result.stdout
    return result.stdout


def test_bundle_holds_the_plugins_and_resources(built: Bundle) -> None:
    missing = [name for name in REQUIRED_FILES if not (built.folder / name).is_file()]
    assert missing == []
    strays = [
        str(path.relative_to(built.folder)) for path in built.folder.rglob("*")
        if FORBIDDEN.search(str(path.relative_to(built.folder)))
    ]
    assert strays == []


def test_bundle_passes_its_self_test_offscreen(
    built: Bundle, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    out = run_self_test(built.executable, isolated_env(tmp_path, "offscreen"), tmp_path)
    show(pytestconfig, out.strip())


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_bundle_passes_its_self_test_on_x11(built: Bundle, tmp_path: Path) -> None:
    env = isolated_env(tmp_path, "xcb")
    result = subprocess.run(
        ["xvfb-run", "-a", str(built.executable), "--self-test"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "window " in result.stdout and "(xcb)" in result.stdout, result.stdout
    assert OK_LINE.search(result.stdout), result.stdout
