"""The demo's child processes as the desktop starts and ends them: the embedded server
(server/embedded.py) and the simulated patients (app/demo/patient_runner.py).

Each child gets a pipe on its stdin that only the desktop holds: closing it (quitting) or the
desktop's death (SIGKILL, a crash) ends the child (shared/parent_watch.py). The server serves
on a loopback socket bound here, so its URL is known before it has started.
"""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shared.demo_people import DemoArrival
from shared.errors import KnownError

log = logging.getLogger("clinicdesk.demo")

#: How long a child may take to stop once its pipe is closed before it is killed.
STOP_SECONDS = 10.0


class DemoServerFailed(KnownError):
    """The embedded demo server did not start (the sentence says why)."""


@dataclass(frozen=True, slots=True)
class ServerReady:
    """What the embedded server says once it serves."""

    url: str
    username: str
    password: str = field(repr=False)
    mail_dir: Path
    arrivals: list[DemoArrival]


def _child_env() -> dict[str, str]:
    # The demo's server is configured by the demo alone, never by a CLINIC_DESK_* left in the
    # environment for a real server (an SMTP host, a production database).
    return {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_DESK_")}


def _spawn(module: str, args: list[str], log_path: Path,
           pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", module, *args, "--parent-pid", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
            pass_fds=pass_fds, env=_child_env(), close_fds=True,
        )


def _end(process: subprocess.Popen[bytes] | None, name: str) -> None:
    """Close the child's pipe (it stops on its own), then wait; kill it if it lingers."""
    if process is None:
        return
    if process.stdin is not None and not process.stdin.closed:
        try:
            process.stdin.close()
        except OSError:
            pass  # it is gone already
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        log.warning("the demo's %s did not stop in %.0f s: killed", name, STOP_SECONDS)
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


class EmbeddedServer:
    """`python -m server.embedded` on a free 127.0.0.1 port, with its data in `folder`."""

    def __init__(self, folder: Path, reset: bool = False) -> None:
        self.folder = folder
        self.reset = reset
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        #: The server's ready message, or DemoServerFailed.
        self.ready: Future[ServerReady] = Future()

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def start(self) -> str:
        """Bind the port, start the server process; return its URL at once."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
            args = ["--data-dir", str(self.folder), "--fd", str(listener.fileno())]
            self.process = _spawn("server.embedded", args + (["--reset"] if self.reset else []),
                                  self.log_path, pass_fds=(listener.fileno(),))
        finally:
            listener.close()  # the child has its own copy; connections wait in its backlog
        log.info("demo server starting at %s (log: %s)", self.url, self.log_path)
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,),
                         name="demo-server-reader", daemon=True).start()
        return self.url

    def _read(self, stdout: IO[bytes]) -> None:
        for raw in stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if message.get("type") == "ready" and not self.ready.done():
                self.ready.set_result(ServerReady(
                    message["url"], message["username"], message["password"],
                    Path(message["mail"]),
                    [DemoArrival.from_json(value) for value in message["arrivals"]]))
            elif message.get("type") == "error" and not self.ready.done():
                self.ready.set_exception(DemoServerFailed(
                    f"The demo server could not start: {message.get('message')}. "
                    f"Its log is {self.log_path}."))
        if not self.ready.done():
            self.ready.set_exception(DemoServerFailed(
                f"The demo server stopped while starting; its log is {self.log_path}."))

    def stop(self) -> None:
        _end(self.process, "server")
        self.process = None


class SimulatedPatients:
    """`python -m app.demo.patient_runner`: the patients who visit the demo's waiting room."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, server_url: str, patients: list[DemoArrival]) -> None:
        self.process = _spawn("app.demo.patient_runner", [], self.folder / "patients.log")
        assert self.process.stdin is not None
        request = {"server_url": server_url, "patients": [p.to_json() for p in patients]}
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()  # and kept open: its end tells the patients to go

    def stop(self) -> None:
        _end(self.process, "patients")
        self.process = None
