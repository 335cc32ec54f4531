"""Packaging figures (issue 7): bundle, MSI and .deb sizes, cold start to the schedule, self-test.

Builds the PyInstaller bundle (or reuses it from installer/bundle_cache.py), the MSI (wixl, signed
with a throwaway certificate as tests/test_installer_msi.py does) and the .deb, then starts the
bundled app `--demo` offscreen with a fresh HOME and XDG folders and times it until the schedule
is visible. Targets: installer <= 150 MB, cold start <= 2 s.

    .venv/bin/python bench/packaging_bench.py [--runs 3] [--no-msi] [--no-deb] [--keep DIR]

"Schedule visible" is read from the app's log file ($XDG_STATE_HOME/ClinicDesk/log/clinic-desk.log,
flushed per line), polled every few milliseconds:
- SHOWN_MARK, the line the main window logs once its first range is in the model and laid out,
  when the app has it; otherwise
- STARTED_MARK ("Clinic Desk ... started"), logged right after the window is shown and today's
  range is requested from the store: a lower bound (the rows arrive a few event-loop turns later).
The first run starts with the bundle's files evicted from the page cache (posix_fadvise
DONTNEED; system libraries stay cached); warm runs are the median of --runs more starts.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from installer.bundle_cache import Bundle, bundle, folder_size  # noqa: E402
from installer.windows.build_msi import build_msi, make_throwaway_certificate, sign_msi  # noqa: E402

INSTALLER_TARGET_MB = 150.0
COLD_START_TARGET_S = 2.0
#: The log line the main window writes once its first range shows rows (see the module doc).
SHOWN_MARK = re.compile(r"clinicdesk\.ui: schedule shown: (\d+) rows")
STARTED_MARK = re.compile(r"clinicdesk\.app: Clinic Desk \S+ started")
SELF_TEST_OK = re.compile(r"^clinic-desk self-test: ok \(.*total ([\d.]+)s\)$", re.MULTILINE)
START_TIMEOUT = 30.0
POLL_SECONDS = 0.003
MSI_TOOLS = ("wixl", "msibuild", "msiinfo", "osslsigncode", "openssl")
DEB_SCRIPT = REPO_ROOT / "installer" / "linux" / "build-deb.sh"


@dataclass
class Figures:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, name: str, value: str, target: str = "", detail: str = "") -> None:
        """One figure: printed now (with its detail), and a row of the closing table."""
        self.rows.append((name, value, target))
        line = f"{name}: {value}" + (f" ({detail})" if detail else "")
        print(line + (f"  [{target}]" if target else ""), flush=True)


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def verdict(value: float, limit: float, unit: str) -> str:
    return f"<= {limit:g} {unit}: {'ok' if value <= limit else 'OVER'}"


# --- sizes ---------------------------------------------------------------------------------------
def bundle_counts(folder: Path) -> tuple[int, int]:
    """(regular files, symlinks) in the bundle."""
    files = links = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            if (Path(root) / name).is_symlink():
                links += 1
            else:
                files += 1
    return files, links


def make_test_certificate(folder: Path) -> tuple[Path, Path]:
    return make_throwaway_certificate(folder, "Clinic Desk Bench Signing")


def msi_figures(payload: Path, out: Path, figures: Figures) -> int | None:
    missing = [tool for tool in MSI_TOOLS if shutil.which(tool) is None]
    if missing:
        figures.add("MSI", f"skipped (not installed: {', '.join(missing)})")
        return None
    started = time.monotonic()
    unsigned = out / "ClinicDesk.unsigned.msi"
    count = build_msi(payload, unsigned, main_exe="clinic-desk")
    cert, key = make_test_certificate(out)
    signed = out / "ClinicDesk.msi"
    sign_msi(unsigned, signed, cert, key)
    size = signed.stat().st_size
    figures.add(
        "MSI (signed, wixl)", f"{mb(size)}, {count} files",
        verdict(size / 1e6, INSTALLER_TARGET_MB, "MB"),
        f"built and signed in {time.monotonic() - started:.1f}s",
    )
    return size


def deb_figures(payload: Path, out: Path, figures: Figures) -> int | None:
    if shutil.which("dpkg-deb") is None:
        figures.add(".deb", "skipped (dpkg-deb is not installed)")
        return None
    started = time.monotonic()
    result = subprocess.run(
        [str(DEB_SCRIPT), str(payload), str(out)], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"build-deb.sh failed:\n{result.stdout}\n{result.stderr}")
    deb = Path(result.stdout.strip().splitlines()[-1])
    size = deb.stat().st_size
    figures.add(
        ".deb (zstd)", mb(size), verdict(size / 1e6, INSTALLER_TARGET_MB, "MB"),
        f"{deb.name}, built in {time.monotonic() - started:.1f}s",
    )
    return size


# --- start-up ------------------------------------------------------------------------------------
@contextmanager
def fresh_user() -> Iterator[tuple[dict[str, str], Path]]:
    """The environment of a user who never ran Clinic Desk, and where its log file will be."""
    with tempfile.TemporaryDirectory(prefix="clinic-desk-bench-") as folder:
        home = Path(folder)
        xdg = {
            "XDG_CONFIG_HOME": home / ".config",
            "XDG_DATA_HOME": home / ".local" / "share",
            "XDG_STATE_HOME": home / ".local" / "state",
            "XDG_CACHE_HOME": home / ".cache",
            "XDG_RUNTIME_DIR": home / "runtime",
        }
        for path in xdg.values():
            path.mkdir(parents=True)
        xdg["XDG_RUNTIME_DIR"].chmod(0o700)
        (home / "tmp").mkdir()
        env = {
            # No venv, no repo, no PYTHON*: the bundle stands on its own, as installed.
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(home / "tmp"),
            "QT_QPA_PLATFORM": "offscreen",
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            **{name: str(path) for name, path in xdg.items()},
        }
        yield env, xdg["XDG_STATE_HOME"] / "ClinicDesk" / "log" / "clinic-desk.log"


def evict_from_page_cache(folder: Path) -> bool:
    """Drop the bundle's files from the page cache (clean pages only; no root needed)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    os.sync()
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_symlink():
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


@dataclass(frozen=True)
class StartUp:
    started: float | None  # "Clinic Desk ... started": window shown, range requested
    shown: float | None  # SHOWN_MARK: first range in the schedule (needs the app's hook)
    rows: int | None


def stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # the app closes its window the normal way
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_up(executable: Path) -> StartUp:
    """Start the bundled app --demo as a new user; time the log's marks from the exec."""
    with fresh_user() as (env, log_file):
        started: float | None = None
        shown: float | None = None
        rows: int | None = None
        begin = time.monotonic()
        process = subprocess.Popen(
            [str(executable), "--demo"], env=env, cwd=env["HOME"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            while time.monotonic() - begin < START_TIMEOUT:
                if log_file.is_file():
                    text = log_file.read_text(encoding="utf-8", errors="replace")
                    now = time.monotonic() - begin
                    if started is None and STARTED_MARK.search(text):
                        started = now
                    match = SHOWN_MARK.search(text)
                    if match:
                        shown, rows = now, int(match.group(1))
                        break
                if process.poll() is not None:
                    break
                # Without the app's hook the "started" mark is all there is: wait a little
                # in case the hook's line follows, then stop.
                if started is not None and time.monotonic() - begin > started + 1.0:
                    break
                time.sleep(POLL_SECONDS)
        finally:
            stop(process)
        if started is None and shown is None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(
                f"the app showed no start-up mark in {START_TIMEOUT:.0f}s "
                f"(exit {process.returncode}):\n{stderr[-2000:]}"
            )
        if process.stderr is not None:
            process.stderr.close()
        return StartUp(started, shown, rows)


def cold_start_figures(executable: Path, runs: int, figures: Figures) -> None:
    evicted = evict_from_page_cache(executable.parent)
    first = start_up(executable)
    warm = [start_up(executable) for _ in range(runs)]
    hooked = first.shown is not None
    label = "schedule shown" if hooked else "window shown, range requested (lower bound)"

    def value(run: StartUp) -> float:
        result = run.shown if hooked else run.started
        if result is None:
            raise RuntimeError(f"a run lacks the {label!r} mark: {run}")
        return result

    cold = value(first)
    median = statistics.median(value(run) for run in warm)
    note = f"{first.rows} rows" if hooked else "the app logs no 'schedule shown' line yet"
    figures.add(
        "cold start, first run", f"{cold:.2f}s to {label}", verdict(cold, COLD_START_TARGET_S, "s"),
        f"{note}; {'bundle evicted from the page cache' if evicted else 'page cache as is'}",
    )
    figures.add(
        f"cold start, warm (median of {runs})", f"{median:.2f}s to {label}",
        verdict(median, COLD_START_TARGET_S, "s"),
        f"runs: {', '.join(f'{value(run):.2f}s' for run in warm)}",
    )
    if hooked and first.started is not None:
        figures.add(
            "  of which window shown", f"{first.started:.2f}s first, "
            f"{statistics.median(run.started or 0.0 for run in warm):.2f}s warm",
        )


def self_test_figures(executable: Path, figures: Figures) -> None:
    with fresh_user() as (env, _log):
        begin = time.monotonic()
        result = subprocess.run(
            [str(executable), "--self-test"], env=env, cwd=env["HOME"],
            capture_output=True, text=True, timeout=120,
        )
        wall = time.monotonic() - begin
    match = SELF_TEST_OK.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"the bundle's self-test failed:\n{result.stdout}\n{result.stderr}")
    figures.add(
        "self-test (bundle)", f"{wall:.2f}s wall", detail=f"the report: {match.group(0)}"
    )


# --- main ----------------------------------------------------------------------------------------
def print_table(figures: Figures) -> None:
    width = max(len(name) for name, _value, _target in figures.rows)
    value_width = max(len(value) for _name, value, _target in figures.rows)
    print("\n" + "=" * (width + value_width + 30))
    print(f"{'figure':<{width}}  {'value':<{value_width}}  target")
    print("-" * (width + value_width + 30))
    for name, value, target in figures.rows:
        print(f"{name:<{width}}  {value:<{value_width}}  {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="warm starts (median)")
    parser.add_argument("--no-msi", action="store_true", help="skip the MSI")
    parser.add_argument("--no-deb", action="store_true", help="skip the .deb")
    parser.add_argument("--keep", type=Path, help="keep the MSI and .deb in this folder")
    args = parser.parse_args(argv)
    figures = Figures()

    began = time.monotonic()
    payload: Bundle = bundle()
    how = f"built in {payload.build_seconds:.1f}s" if payload.build_seconds else "from the cache"
    files, links = bundle_counts(payload.folder)
    figures.add(
        "bundle on disk", f"{mb(folder_size(payload.folder))}, {files} files + {links} symlinks",
        detail=f"{how}: {payload.folder}",
    )

    with tempfile.TemporaryDirectory(prefix="clinic-desk-packages-") as scratch:
        out = args.keep or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        if not args.no_msi:
            msi_figures(payload.folder, out, figures)
        if not args.no_deb:
            deb_figures(payload.folder, out, figures)

    cold_start_figures(payload.executable, args.runs, figures)
    self_test_figures(payload.executable, figures)
    figures.add("bench run time", f"{time.monotonic() - began:.0f}s")
    print_table(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
