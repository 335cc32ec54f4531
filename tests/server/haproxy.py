"""HAProxy (Debian `haproxy`) in front of test servers on loopback: round-robin, no stickiness,
health-checked by GET /readyz; each answer names the server that gave it (X-Served-By)."""

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.polling import wait_until
from tests.server.postgres import free_port

_CONFIG = """\
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    retries 3
    option redispatch

frontend clinic
    bind 127.0.0.1:{port}
    default_backend servers

backend servers
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 300ms fall 2 rise 1
    http-response set-header X-Served-By %s
{servers}
"""


def haproxy_installed() -> bool:
    return shutil.which("haproxy") is not None


@contextmanager
def balancer(backends: Sequence[int]) -> Iterator[str]:
    """HAProxy on a free loopback port in front of `backends` (ports); yields its base URL.
    Server names are s0, s1, … in the order given."""
    folder = Path(tempfile.mkdtemp(prefix="clinic-desk-haproxy-"))
    port = free_port()
    servers = "\n".join(
        f"    server s{n} 127.0.0.1:{backend} check" for n, backend in enumerate(backends)
    )
    config = folder / "haproxy.cfg"
    config.write_text(_CONFIG.format(port=port, servers=servers))
    log = (folder / "log").open("w")
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"haproxy exited: {(folder / 'log').read_text()}")
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answering, timeout=30, what="haproxy to answer")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
