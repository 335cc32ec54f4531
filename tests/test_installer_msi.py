"""The Windows MSI: built here by wixl from installer/windows/clinic-desk.wxs, signed, read back."""

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from installer.bundle_metadata import project_version
from installer.windows.build_msi import (
    build_msi,
    make_throwaway_certificate,
    msi_version,
    sign_msi,
    table_rows,
)
from installer.windows.files_fragment import MAIN_EXE_ID, component_guid, fragment_text

TOOLS = ("wixl", "msiinfo", "msibuild", "osslsigncode", "openssl")
missing_tools = [tool for tool in TOOLS if shutil.which(tool) is None]
needs_tools = pytest.mark.skipif(
    bool(missing_tools),
    reason=f"not installed: {', '.join(missing_tools)} (Debian: wixl msitools osslsigncode)",
)
WXS = Path(__file__).resolve().parent.parent / "installer" / "windows" / "clinic-desk.wxs"
UPGRADE_CODE = re.search(r'UpgradeCode="([0-9A-F-]{36})"', WXS.read_text()).group(1)  # type: ignore[union-attr]


@dataclass(frozen=True)
class BuiltMsi:
    bundle: Path
    unsigned: Path
    signed: Path
    cert: Path
    files: int


def show(config: pytest.Config, text: str) -> None:
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stdout.write(f"\n[msi] {text}\n")


def make_test_certificate(folder: Path) -> tuple[Path, Path]:
    return make_throwaway_certificate(folder, "Clinic Desk Test Signing")


def verify(msi: Path, cert: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["osslsigncode", "verify", "-CAfile", str(cert), "-in", str(msi)],
        capture_output=True, text=True,
    )


@pytest.fixture(scope="module")
def msi(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[BuiltMsi]:
    if missing_tools:
        pytest.skip(f"not installed: {', '.join(missing_tools)}")
    pytest.importorskip("PyInstaller", reason="PyInstaller is needed to build the payload")
    from installer.bundle_cache import bundle

    payload = bundle()
    folder = tmp_path_factory.mktemp("msi")
    unsigned = folder / "ClinicDesk.unsigned.msi"
    files = build_msi(payload.folder, unsigned, main_exe="clinic-desk")
    cert, key = make_test_certificate(folder)
    signed = folder / "ClinicDesk.msi"
    sign_msi(unsigned, signed, cert, key)
    show(pytestconfig, f"{files} files, {signed.stat().st_size / 1e6:.0f} MB signed MSI")
    yield BuiltMsi(payload.folder, unsigned, signed, cert, files)


def rows(msi: Path, table: str) -> list[list[str]]:
    return table_rows(msi, table)


def long_name(default_dir: str) -> str:
    """The long name of an MSI "short|long" file or folder name."""
    return default_dir.split("|")[-1]


@needs_tools
def test_signature_verifies_and_a_tampered_copy_fails(msi: BuiltMsi, tmp_path: Path) -> None:
    good = verify(msi.signed, msi.cert)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Signature verification: ok" in good.stdout

    tampered = tmp_path / "tampered.msi"
    data = bytearray(msi.signed.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte in the payload's cabinet
    tampered.write_bytes(bytes(data))
    bad = verify(tampered, msi.cert)
    assert bad.returncode != 0
    assert "MISMATCH" in bad.stdout + bad.stderr

    unsigned = verify(msi.unsigned, msi.cert)
    assert unsigned.returncode != 0


@needs_tools
def test_product_properties_and_upgrade_code(msi: BuiltMsi) -> None:
    properties = {row[0]: row[1] for row in rows(msi.signed, "Property")}
    assert properties["ProductName"] == "Clinic Desk"
    assert properties["ProductVersion"] == msi_version(project_version())
    assert properties["UpgradeCode"] == "{" + UPGRADE_CODE + "}"
    assert properties["ALLUSERS"] == "1"  # per-machine
    secure = properties["SecureCustomProperties"].split(";")
    assert {"SERVER_URL", "SAVED_SERVER_URL", "WIX_UPGRADE_DETECTED"} <= set(secure)

    upgrades = rows(msi.signed, "Upgrade")
    assert {row[0] for row in upgrades} == {"{" + UPGRADE_CODE + "}"}
    assert {row[-1] for row in upgrades} == {"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"}
    sequence = {row[0]: row for row in rows(msi.signed, "InstallExecuteSequence")}
    assert "RemoveExistingProducts" in sequence  # MajorUpgrade: a new version replaces the old
    summary = subprocess.run(
        ["msiinfo", "suminfo", str(msi.signed)], capture_output=True, text=True, check=True
    ).stdout
    assert "Template: x64;1033" in summary


@needs_tools
def test_server_url_goes_to_the_machine_policy_only_when_given(msi: BuiltMsi) -> None:
    registry = rows(msi.signed, "Registry")
    policy = [row for row in registry if row[2] == r"SOFTWARE\Policies\ClinicDesk"]
    assert len(policy) == 1
    _, root, _, name, value, component = policy[0]
    assert (root, name, value) == ("2", "server_url", "[SERVER_URL]")  # 2: HKLM
    components = {row[0]: row for row in rows(msi.signed, "Component")}
    assert components[component][4] == "SERVER_URL"
    # An upgrade without SERVER_URL keeps the URL already written.
    locator = {row[0]: row for row in rows(msi.signed, "RegLocator")}
    assert locator["SavedServerUrl"][2:4] == [r"SOFTWARE\Policies\ClinicDesk", "server_url"]
    actions = {row[0]: row for row in rows(msi.signed, "CustomAction")}
    assert actions["KeepServerUrl"][2:4] == ["SERVER_URL", "[SAVED_SERVER_URL]"]


@needs_tools
def test_program_files_start_menu_and_every_bundle_file(msi: BuiltMsi) -> None:
    directories = {row[0]: row for row in rows(msi.signed, "Directory")}
    assert directories["INSTALLDIR"][1] == "ProgramFiles64Folder"
    assert long_name(directories["INSTALLDIR"][2]) == "Clinic Desk"
    shortcuts = rows(msi.signed, "Shortcut")
    assert [(row[1], long_name(row[2]), row[4]) for row in shortcuts] == [
        ("ProgramMenuFolder", "Clinic Desk", f"[#{MAIN_EXE_ID}]")
    ]
    files = rows(msi.signed, "File")
    bundle_files = [p for p in msi.bundle.rglob("*") if not p.is_dir()]
    assert len(files) == len(bundle_files) == msi.files
    names = {long_name(row[2]) for row in files}
    assert {"clinic-desk", "app-icon.svg", "libqoffscreen.so", "libqsvgicon.so"} <= names
    # Uninstall removes what it installed and nothing else: no RemoveFile rules at all.
    assert rows(msi.signed, "RemoveFile") == []


def test_fragment_ids_are_stable_unique_and_name_the_main_exe(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "_internal" / "icons").mkdir(parents=True)
    (bundle / "clinic-desk.exe").write_bytes(b"MZ")
    (bundle / "_internal" / "icons" / "a & b.svg").write_text("<svg/>")
    (bundle / "_internal" / "python311.dll").write_bytes(b"\0")
    text, count = fragment_text(bundle, "../bundle", "clinic-desk.exe")
    assert count == 3
    main_file = f'<File Id="{MAIN_EXE_ID}" Name="clinic-desk.exe" '
    assert main_file + 'Source="../bundle/clinic-desk.exe"' in text
    assert 'Name="a &amp; b.svg"' in text
    ids = re.findall(r'Id="([^"]+)"', text)
    assert all(len(i) <= 72 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", i) for i in ids)
    declared = re.findall(r'<(?:Component|File|Directory) Id="([^"]+)"', text)
    assert len(declared) == len(set(declared))
    assert fragment_text(bundle, "../bundle", "clinic-desk.exe") == (text, count)
    guid = component_guid(PurePosixPath("clinic-desk.exe"))
    assert guid == component_guid(PurePosixPath("CLINIC-DESK.EXE")) and f'Guid="{guid}"' in text
    with pytest.raises(FileNotFoundError, match="no clinic-desk"):
        fragment_text(bundle, "../bundle", "clinic-desk")


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1.0", "0.1.0"), ("1.2", "1.2.0"), ("2.0.3rc1", "2.0.3"), ("3.1.4.post2", "3.1.4")],
)
def test_msi_version_from_the_project_version(version: str, expected: str) -> None:
    assert msi_version(version) == expected


@needs_tools
def test_version_comes_from_the_project(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "clinic-desk.exe").write_bytes(b"MZ")
    output = tmp_path / "small.msi"
    assert build_msi(bundle, output, "clinic-desk.exe", version="2.3.4") == 1
    properties = {row[0]: row[1] for row in rows(output, "Property")}
    assert properties["ProductVersion"] == "2.3.4"
    assert [long_name(row[2]) for row in rows(output, "File")] == ["clinic-desk.exe"]
