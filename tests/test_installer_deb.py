"""The Linux package: built from the bundle with dpkg-deb, unpacked into a scratch root, run."""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.bundle_metadata import project_version

SCRIPT = Path(__file__).resolve().parent.parent / "installer" / "linux" / "build-deb.sh"
missing = [tool for tool in ("dpkg-deb", "dpkg") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def show(config: pytest.Config, text: str) -> None:
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stdout.write(f"\n[deb] {text}\n")


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Path]:
    pytest.importorskip("PyInstaller", reason="PyInstaller is needed to build the payload")
    from installer.bundle_cache import bundle

    out = tmp_path_factory.mktemp("deb")
    result = subprocess.run(
        [str(SCRIPT), str(bundle().folder), str(out)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    show(pytestconfig, f"{path.name}: {path.stat().st_size / 1e6:.0f} MB")
    yield path


def field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_package_fields(deb: Path) -> None:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert deb.name == f"clinic-desk_{project_version()}_{arch}.deb"
    assert field(deb, "Package") == "clinic-desk"
    assert field(deb, "Version") == project_version()
    depends = field(deb, "Depends")
    assert "libxcb-cursor0" in depends and "libfontconfig1" in depends
    assert int(field(deb, "Installed-Size")) > 100_000  # KiB: the whole bundle is in it


def test_contents_are_root_owned_and_leave_etc_to_it(deb: Path) -> None:
    listing = subprocess.run(
        ["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    owners = {line.split()[1] for line in listing}
    assert owners == {"root/root"}
    paths = [re.sub(r"^\./", "/", line.split()[5]) for line in listing]
    assert "/opt/clinic-desk/clinic-desk" in paths
    assert "/usr/share/applications/clinic-desk.desktop" in paths
    assert not any(path.startswith("/etc") for path in paths)


def test_unpacked_package_passes_its_self_test(deb: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    command = root / "usr" / "bin" / "clinic-desk"
    assert command.is_symlink() and not os.readlink(command).startswith("/")
    assert command.resolve() == (root / "opt" / "clinic-desk" / "clinic-desk").resolve()
    desktop = (root / "usr/share/applications/clinic-desk.desktop").read_text()
    assert "Exec=clinic-desk\n" in desktop and "Icon=clinic-desk\n" in desktop
    assert (root / "usr/share/icons/hicolor/scalable/apps/clinic-desk.svg").is_file()

    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [str(command), "--self-test"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.match(r"clinic-desk self-test: ok \(.*call vp8 .*\)$", result.stdout.strip())
