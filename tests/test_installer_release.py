"""The release workflow: secrets only by name, every package built and self-tested, paths real."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
TEXT = WORKFLOW.read_text()
EXPECTED_SECRETS = {
    "WINDOWS_CODESIGN_PFX_BASE64",
    "WINDOWS_CODESIGN_PASSWORD",
    "MACOS_CERTIFICATE_P12_BASE64",
    "MACOS_CERTIFICATE_PASSWORD",
    "MACOS_CODESIGN_IDENTITY",
    "APPLE_ID",
    "APPLE_TEAM_ID",
    "APPLE_APP_SPECIFIC_PASSWORD",
}


def test_secrets_are_named_documented_and_never_included() -> None:
    used = set(re.findall(r"\$\{\{\s*secrets\.([A-Z0-9_]+)\s*\}\}", TEXT))
    assert used == EXPECTED_SECRETS | {"GITHUB_TOKEN"}
    header = TEXT.split("\nname:", 1)[0]
    assert all(name in header for name in EXPECTED_SECRETS)
    assert "BEGIN" not in TEXT  # no PEM block
    assert not re.search(r"[A-Za-z0-9+/=]{120,}", TEXT)  # no pasted base64 blob
    assert not re.search(r"(?i)password\s*[:=]\s*['\"]?\w{6,}", TEXT.replace("PASSWORD: $", ""))


def test_every_package_is_built_self_tested_and_signed() -> None:
    assert "clinic-desk-console.exe --self-test" in TEXT
    assert "clinic-desk/clinic-desk --self-test" in TEXT
    for artifact in ("out/*.msi", "out/*.dmg", "out/*.deb"):
        assert f"path: {artifact}" in TEXT
    assert "signtool sign" in TEXT.replace("& $env:SIGNTOOL sign", "signtool sign")
    assert "/tr http://timestamp.digicert.com" in TEXT
    assert "installer/macos/build-dmg.sh out" in TEXT


def test_only_the_tag_publish_job_may_write() -> None:
    assert re.search(r"^permissions:\n  contents: read$", TEXT, re.MULTILINE)
    assert TEXT.count("contents: write") == 1
    publish = TEXT.split("\n  publish:\n", 1)[1]
    assert "contents: write" in publish
    assert "if: startsWith(github.ref, 'refs/tags/v')" in publish
    assert "needs: [linux, windows, macos]" in publish


def test_paths_the_workflow_uses_exist() -> None:
    paths = set(re.findall(r"installer[/\\][\w./\\-]+\.(?:sh|py|spec|wxs)", TEXT))
    assert len(paths) >= 5
    for path in paths:
        assert (REPO / path.replace("\\", "/")).is_file(), path


def test_workflow_is_valid_yaml() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed in this environment")
    document = yaml.safe_load(TEXT)
    assert set(document["jobs"]) == {"linux", "windows", "macos", "publish"}
    for job in document["jobs"].values():
        assert all("uses" in step or "run" in step for step in job["steps"])
