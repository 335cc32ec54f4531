"""A throwaway PostgreSQL cluster for tests: initdb in a temp dir, loopback only, stopped after."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL bin folder, or None when PostgreSQL is not installed."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _as_owner(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the `postgres` system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def running_cluster(bin_dir: Path) -> Iterator[str]:
    """Start a cluster on a free 127.0.0.1 port; yield its URL (no database name); stop it."""
    with stoppable_cluster(bin_dir) as cluster:
        yield cluster.url


class Cluster:
    """A running throwaway cluster that a test may stop and start again (same port, same data)."""

    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin_dir, self.root, self.port = bin_dir, root, port
        self.url = f"postgresql://postgres@127.0.0.1:{port}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        subprocess.run(
            _as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-o", options,
                       "-l", str(self.root / "log"), "-w", "-t", "60", "start"]),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m",
                       "immediate", "-w", "stop"]),
            capture_output=True,
        )


@contextmanager
def stoppable_cluster(bin_dir: Path) -> Iterator[Cluster]:
    """Start a cluster on a free 127.0.0.1 port; yield it (stop and start at will); remove it."""
    root = Path(tempfile.mkdtemp(prefix="clinic-desk-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data = root / "data"
    subprocess.run(
        _as_owner(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    cluster = Cluster(bin_dir, root, free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
