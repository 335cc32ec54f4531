"""Janus started by a test (`janus -F <generated folder>`) inside the test's network namespace.

HTTP on 127.0.0.1:8088 and WebSocket on 127.0.0.1:8188 *inside* the namespace (its own ports,
so tests running at the same time never collide); ICE on veth0 (127.0.0.2) only.
"""

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from server.janus.config import JanusConfig, write_config
from tests.netns import VETH, VETH_ADDRESS, NetNamespace

HTTP_PORT = 8088
WS_PORT = 8188
START_SECONDS = 20.0


@dataclass
class JanusServer:
    namespace: NetNamespace
    config: JanusConfig
    folder: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.config.http_port}/janus"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.config.ws_port}"

    def start(self) -> None:
        """Starts Janus and waits until its HTTP API answers (from inside the namespace)."""
        assert self.process is None, "already running"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.namespace.command("janus", "-F", str(self.folder), "-N"),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        with self.namespace.entered():
            while True:
                assert self.process.poll() is None, f"janus exited: {self.log.read_text()[-2000:]}"
                try:
                    if httpx.get(f"{self.url}/info", timeout=1, trust_env=False).is_success:
                        return
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "janus did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """Janus dies at once (SIGKILL): no goodbye to anyone, its rooms and sessions gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def janus_server(
    namespace: NetNamespace, folder: Path, sip: bool = False
) -> Iterator[JanusServer]:
    """A running Janus in `namespace` with fresh secrets (skips when Debian's janus is missing);
    `sip`: with its SIP plugin on 127.0.0.2 (phone calls)."""
    if shutil.which("janus") is None:
        pytest.skip("janus is not installed (apt-get install janus)")
    config = JanusConfig(
        bind_ip="127.0.0.1",
        http_port=HTTP_PORT,
        ws_port=WS_PORT,
        api_secret=secrets.token_urlsafe(24),
        token_secret=secrets.token_urlsafe(24),
        room_key=secrets.token_urlsafe(24),
        ice_enforce_list=VETH,
        rtp_port_range="40000-40999",
        sip_local_ip=VETH_ADDRESS if sip else "",
    )
    server = JanusServer(namespace, config, write_config(config, folder), folder / "janus.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
