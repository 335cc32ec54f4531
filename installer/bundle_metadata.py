"""What the bundle and installers say about the app: names, ids, version, macOS Info.plist keys."""

import tomllib
from pathlib import Path
from typing import Any

INSTALLER_DIR = Path(__file__).resolve().parent
REPO_ROOT = INSTALLER_DIR.parent

#: The executable inside the one-folder bundle (clinic-desk.exe on Windows).
EXECUTABLE_NAME = "clinic-desk"
#: The bundle folder that PyInstaller writes into its dist folder.
BUNDLE_NAME = "clinic-desk"
DISPLAY_NAME = "Clinic Desk"
MACOS_BUNDLE_ID = "org.clinicdesk.ClinicDesk"
MACOS_APP_NAME = f"{DISPLAY_NAME}.app"
MACOS_ENTITLEMENTS = INSTALLER_DIR / "macos" / "entitlements.plist"


def project_version() -> str:
    """The version in pyproject.toml: the one source every package's version comes from."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def macos_info_plist() -> dict[str, Any]:
    """Keys PyInstaller's BUNDLE adds to the .app's Info.plist."""
    version = project_version()
    return {
        "CFBundleName": DISPLAY_NAME,
        "CFBundleDisplayName": DISPLAY_NAME,
        "CFBundleIdentifier": MACOS_BUNDLE_ID,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "LSMinimumSystemVersion": "12.0",
        "NSHighResolutionCapable": True,
        "NSCameraUsageDescription": (
            "Clinic Desk uses the camera for video consultations with patients."
        ),
        "NSMicrophoneUsageDescription": (
            "Clinic Desk uses the microphone for video and phone consultations."
        ),
    }
