"""Build the PyInstaller bundle once per source state and reuse it (tests and installer builds).

The cache key hashes everything that goes into the bundle: the app's sources, resources, the
spec and its helpers, pyproject.toml and the exact installed distributions. A finished build is
renamed into place, so an interrupted build never looks cached.
"""

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from installer.bundle_metadata import BUNDLE_NAME, EXECUTABLE_NAME, INSTALLER_DIR, REPO_ROOT

DEFAULT_CACHE = REPO_ROOT / "test-artifacts" / "bundle"
#: Older builds beyond this many are removed (each is ~300 MB).
KEEP_BUILDS = 2
_INPUT_GLOBS = (
    "app/**/*.py",
    "app/py.typed",
    "shared/**/*.py",
    "shared/py.typed",
    "resources/**/*",
    "installer/clinic-desk.spec",
    "installer/clinic_desk_entry.py",
    "installer/bundle_metadata.py",
    "installer/build-bundle.sh",
    "installer/macos/entitlements.plist",
    "pyproject.toml",
)


@dataclass(frozen=True, slots=True)
class Bundle:
    folder: Path
    #: Seconds the build took, or None when it came from the cache.
    build_seconds: float | None

    @property
    def executable(self) -> Path:
        return self.folder / EXECUTABLE_NAME

    def size_bytes(self) -> int:
        return folder_size(self.folder)


def folder_size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def source_digest(repo: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256()
    for pattern in _INPUT_GLOBS:
        for path in sorted(repo.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(repo).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    installed = sorted(
        f"{dist.metadata['Name']}=={dist.version}" for dist in importlib.metadata.distributions()
    )
    digest.update("\n".join(installed).encode())
    return digest.hexdigest()[:20]


def _prune(cache: Path, keep: Path) -> None:
    builds = sorted(
        (path for path in cache.iterdir() if path.is_dir() and path != keep),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for old in builds[KEEP_BUILDS - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def bundle(cache: Path = DEFAULT_CACHE, python: Path | None = None) -> Bundle:
    """The bundle for the current sources: from the cache, or built now (and cached)."""
    key = cache / source_digest()
    folder = key / "dist" / BUNDLE_NAME
    if (folder / EXECUTABLE_NAME).is_file():
        os.utime(key)
        return Bundle(folder, None)
    staging = cache / f".building-{key.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    env = dict(os.environ)
    if python is not None:
        env["PYTHON"] = str(python)
    started = time.monotonic()
    result = subprocess.run(
        [str(INSTALLER_DIR / "build-bundle.sh"), str(staging / "dist"), str(staging / "work")],
        env=env, capture_output=True, text=True, timeout=900,
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"the bundle build failed:\n{result.stdout}\n{result.stderr}")
    shutil.rmtree(staging / "work", ignore_errors=True)
    shutil.rmtree(key, ignore_errors=True)
    staging.rename(key)
    _prune(cache, key)
    return Bundle(folder, seconds)
