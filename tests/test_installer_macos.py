"""The macOS side, as far as Linux can check it: the spec's .app metadata and the DMG script."""

import plistlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from installer.bundle_metadata import MACOS_BUNDLE_ID, MACOS_ENTITLEMENTS, project_version

INSTALLER = Path(__file__).resolve().parent.parent / "installer"
SPEC = INSTALLER / "clinic-desk.spec"
SCRIPT = INSTALLER / "macos" / "build-dmg.sh"


class Recorder:
    """Stands in for one of PyInstaller's spec classes and remembers how it was called."""

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]

    def __init__(self, name: str, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]):
        self.name = name
        self.calls = calls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((self.name, args, kwargs))
        result = type(self.name, (), {})()
        result.pure, result.scripts, result.binaries, result.datas = [], [], [], []
        return result


def run_spec(platform: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """Execute the spec as PyInstaller would on `platform`; return the calls' keyword arguments."""
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed")
    import PyInstaller.utils.hooks as hooks

    # The real collection is exercised by the bundle test; here only the spec's choices matter.
    monkeypatch.setattr(hooks, "collect_submodules", lambda *a, **k: [])
    monkeypatch.setattr(hooks, "collect_data_files", lambda *a, **k: [])
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "path", list(sys.path))
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    namespace: dict[str, Any] = {"SPECPATH": str(INSTALLER), "__file__": str(SPEC)}
    for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        namespace[name] = Recorder(name, calls)
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), namespace)
    found: dict[str, list[dict[str, Any]]] = {}
    for name, _args, kwargs in calls:
        found.setdefault(name, []).append(kwargs)
    return found


def test_macos_bundle_info_plist_and_entitlements(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = run_spec("darwin", monkeypatch)
    (bundle,) = calls["BUNDLE"]
    assert bundle["name"] == "Clinic Desk.app"
    assert bundle["bundle_identifier"] == MACOS_BUNDLE_ID
    assert bundle["version"] == project_version()
    info = bundle["info_plist"]
    for key in ("NSCameraUsageDescription", "NSMicrophoneUsageDescription"):
        assert isinstance(info[key], str) and len(info[key]) > 20, key
    assert info["CFBundleShortVersionString"] == project_version()
    assert info["NSHighResolutionCapable"] is True
    plistlib.loads(plistlib.dumps(info))  # serialisable as Info.plist

    (exe,) = calls["EXE"]
    assert exe["console"] is False
    assert Path(exe["entitlements_file"]) == MACOS_ENTITLEMENTS
    entitlements = plistlib.loads(MACOS_ENTITLEMENTS.read_bytes())
    assert entitlements == {
        "com.apple.security.device.camera": True,
        "com.apple.security.device.audio-input": True,
    }


def test_linux_spec_makes_one_console_exe_and_no_app(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = run_spec("linux", monkeypatch)
    assert "BUNDLE" not in calls
    assert [(exe["name"], exe["console"]) for exe in calls["EXE"]] == [("clinic-desk", True)]
    (analysis,) = calls["Analysis"]
    assert ("resources" in {dest for _src, dest in analysis["datas"]})
    assert {"server", "mypy", "pytest"} <= set(analysis["excludes"])


def test_windows_spec_adds_a_console_exe_for_scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = run_spec("win32", monkeypatch)
    assert [(exe["name"], exe["console"]) for exe in calls["EXE"]] == [
        ("clinic-desk", False), ("clinic-desk-console", True),
    ]


def test_dmg_script_syntax() -> None:
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_dmg_script_passes_shellcheck() -> None:
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_dmg_script_refuses_to_run_off_macos(tmp_path: Path) -> None:
    if sys.platform == "darwin":
        pytest.skip("this checks the refusal on other systems")
    result = subprocess.run(
        ["bash", str(SCRIPT), "--skip-notarize", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "on macOS only" in result.stderr
    assert list(tmp_path.iterdir()) == []
