"""Step "imports": every module of the app and the native libraries it stands on."""

import importlib
import pkgutil
from pathlib import Path

import app
from app.selftest.report import StepFailed

#: Third-party modules with native parts that a bundle could miss.
NATIVE_MODULES = (
    "PySide6.QtCore",
    "PySide6.QtGui",
    "PySide6.QtWidgets",
    "PySide6.QtSvg",
    "av",
    "av.video.frame",
    "aiortc",
    "aiortc.codecs.vpx",
    "aiortc.codecs.opus",
    "aiortc.contrib.media",
    "aioice",
    "sqlmodel",
    "sqlalchemy.dialects.sqlite",
    "qasync",
)


def app_module_names() -> list[str]:
    """Names of every module under the `app` package (found on disk or in the bundle)."""
    names = ["app"]
    for info in pkgutil.walk_packages(app.__path__, prefix="app."):
        names.append(info.name)
    return sorted(names)


def run(scratch: Path) -> str:
    del scratch  # this step writes nothing
    names = app_module_names()
    if len(names) < 10:
        # A bundle that lost the package's submodules would otherwise "pass" on a handful.
        raise StepFailed(f"only {len(names)} app modules found ({', '.join(names)})")
    failed: list[str] = []
    for name in [*names, *NATIVE_MODULES]:
        try:
            importlib.import_module(name)
        except Exception as error:  # any import error is the finding, keep looking at the rest
            failed.append(f"{name} ({type(error).__name__}: {error})")
    if failed:
        raise StepFailed("cannot import " + "; ".join(failed))
    return f"{len(names) + len(NATIVE_MODULES)} modules"
