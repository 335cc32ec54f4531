"""Where the app's bundled resources (icons) live, both from a checkout and a PyInstaller build."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """Return the folder holding the app's resources.

    When frozen by PyInstaller the resources are unpacked next to the bundle
    (``sys._MEIPASS``); otherwise they are the repository's ``resources`` folder.
    """
    if getattr(sys, "frozen", False):
        bundle = getattr(sys, "_MEIPASS", None)
        if bundle is not None:
            return Path(bundle) / "resources"
        return Path(sys.executable).resolve().parent / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def icon_path(name: str) -> Path:
    """Return the path of the SVG icon called ``name`` (without the ``.svg`` suffix).

    Raises FileNotFoundError if there is no such icon.
    """
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"No icon named {name!r}: expected the file {path}")
    return path
