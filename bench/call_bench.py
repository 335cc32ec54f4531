"""Benchmark of a 1:1 call as the clinician's desktop runs it, against a patient in another process.

The desktop side is the product: CallService + CallWindow offscreen on the qasync loop, a
test-pattern camera and tone, remote video converted off the GUI thread and painted. The patient
is a separate process (its CPU is not counted) answering with its own test pattern and tone;
signalling is newline-delimited JSON over a loopback TCP socket; ICE stays on 127.0.0.1.

Prints: click Start call -> first remote frame painted, p50/p95 over N calls (issue: p50 <= 400
ms, p95 <= 800 ms over 20); then for each size a call of S seconds: CPU of this process (process
time / wall; issue: 640x480 <= 45%, 1280x720 <= 75% of one core), frames painted per second
(>= 29) and resident memory (<= 350 MB). Then (issue 17) the same call from Chromium to the same
patient (bench/chromium_leg.py: same size, 30 fps, VP8, aiortc's bitrate cap), Chromium's
processes' CPU summed, and the ratio desktop / Chromium (target <= 1.0).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/call_bench.py [--calls 20] [--seconds 30]
        [--legs desktop,chromium]
"""

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from app.media.call_listener import CallListener
from app.media.call_options import CallOptions
from app.media.call_session import CallRole, CallSession
from app.media.call_state import CallState
from app.media.capture import CaptureProfile
from app.media.ice_config import IcePolicy
from app.media.signalling import IncomingSignal, Signalling, SignallingError, checked_payload
from app.media.tracks import SwitchableTrack
from shared.realtime_protocol import SignalKind

LOOPBACK = "127.0.0.1"
#: Below this many frames shown a second on either side, the two legs did not do the same work.
MIN_FPS = 25.0


class StreamSignalling(Signalling):
    """Signalling over an asyncio stream: one JSON object {"kind", "payload"} per line."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._closed = False

    async def send(self, kind: SignalKind, payload: dict[str, Any]) -> None:
        if self._closed or self._writer.is_closing():
            raise SignallingError("closed")
        line = json.dumps({"kind": str(kind), "payload": checked_payload(payload)})
        self._writer.write(line.encode() + b"\n")
        await self._writer.drain()

    async def receive(self) -> IncomingSignal | None:
        if self._closed:
            return None
        line = await self._reader.readline()
        if not line:
            return None
        message = json.loads(line)
        return IncomingSignal(SignalKind(message["kind"]), message["payload"])

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()
            await self._writer.wait_closed()


# -- the patient process -------------------------------------------------------------------------

class _Drain(CallListener):
    """Reads (and drops) what the desktop sends, as a browser would decode and show it."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []

    def remote_track(self, track: MediaStreamTrack) -> None:
        self.tasks.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
        except MediaStreamError:
            pass


async def patient(size: str) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        camera = MediaPlayer(f"testsrc=size={size}:rate=30", format="lavfi")
        tone = MediaPlayer("sine=frequency=660", format="lavfi")
        listener = _Drain()
        signalling = StreamSignalling(reader, writer)
        session = CallSession(
            signalling, CallOptions(ice=IcePolicy.loopback()), listener, role=CallRole.CALLEE,
            audio=SwitchableTrack("audio", tone.audio),
            video=SwitchableTrack("video", camera.video),
        )
        await session.start()
        await session.wait_ended()
        for task in listener.tasks:
            task.cancel()
        for track in (camera.video, tone.audio):
            if track is not None:
                track.stop()
        await signalling.close()

    server = await asyncio.start_server(answer, LOOPBACK, 0)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed


# -- the desktop ---------------------------------------------------------------------------------

def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def start_patient(size: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--patient", size],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def stop_patient(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def desktop(args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """The desktop leg; returns its CPU (% of one core) and frames painted a second, per size."""
    from PySide6.QtCore import QSettings

    from app.services.call_service import TRIM_AFTER_CALL_MS, CallConfig, CallService
    from app.ui.call.call_window import CallWindow

    folder = Path(tempfile.mkdtemp(prefix="clinic-desk-call-bench-"))
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)

    # One service for the whole bench, as the application has: calls follow one another.
    service = CallService(CallConfig(options=CallOptions(ice=IcePolicy.loopback()),
                                    allow_test_sources=True), settings)
    await service.refresh_devices()

    async def one_call(size: str, seconds: float) -> dict[str, float]:
        width, height = (int(n) for n in size.split("x"))
        process, port = start_patient(size)
        service.config = replace(service.config, profile=CaptureProfile(width, height, 30))
        window = CallWindow(service, "Bench Patient")
        window.resize(1280, 820)  # the remote view is then about 1000x700
        window.show()
        signalling: StreamSignalling | None = None
        try:
            painted = window.remote_view
            reader, writer = await asyncio.open_connection(LOOPBACK, port)
            signalling = StreamSignalling(reader, writer)
            clicked = time.monotonic()
            await service.start_call(signalling, "Bench Patient")
            while painted.frames_painted == 0:
                await asyncio.sleep(0.002)
            first = time.monotonic() - clicked
            result = {"first_frame": first}
            if seconds > 0:
                while service.state is not CallState.CONNECTED:
                    await asyncio.sleep(0.01)
                await asyncio.sleep(1.0)  # settle: encoders sized, bitrate ramped
                frames0, cpu0, wall0 = painted.frames_painted, time.process_time(), time.monotonic()
                peak = rss_mb()
                end = wall0 + seconds
                while time.monotonic() < end:
                    await asyncio.sleep(0.5)
                    peak = max(peak, rss_mb())
                wall = time.monotonic() - wall0
                result.update(
                    cpu=(time.process_time() - cpu0) / wall * 100,
                    fps=(painted.frames_painted - frames0) / wall,
                    rss=peak,
                    shown_size=float(painted.image_rect().width()),
                )
            await service.hang_up()
            return result
        finally:
            if signalling is not None:
                await signalling.close()
            window.close()
            window.deleteLater()
            stop_patient(process)

    firsts: list[float] = []
    before = rss_mb()
    for _ in range(args.calls):
        firsts.append((await one_call("640x480", 0))["first_frame"] * 1000)
        await asyncio.sleep(0.1)  # let deleteLater and closing transports run
    gc.collect()
    await asyncio.sleep(TRIM_AFTER_CALL_MS / 1000 + 0.5)  # the service gives freed memory back
    firsts.sort()
    p50 = statistics.median(firsts)
    p95 = firsts[min(len(firsts) - 1, round(0.95 * (len(firsts) - 1)))]
    print(f"start call -> first remote frame painted over {len(firsts)} calls: "
          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {firsts[-1]:.0f} ms "
          f"(target p50 <= 400, p95 <= 800); RSS {before:.0f} MB before, "
          f"{rss_mb():.0f} MB after them")

    targets = {"640x480": 45, "1280x720": 75}
    cpus = {}
    for size in args.sizes.split(","):
        figures = await one_call(size, args.seconds)
        cpus[size] = (figures["cpu"], figures["fps"])
        print(f"{size}@30 for {args.seconds:.0f} s: CPU {figures['cpu']:.0f}% of one core "
              f"(target <= {targets.get(size, '?')}%), frames painted {figures['fps']:.1f}/s "
              f"(>= 29) at {figures['shown_size']:.0f} px wide, RSS peak {figures['rss']:.0f} MB "
              f"(<= 350)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS over the whole bench: {peak:.0f} MB")
    service.close()
    return cpus


async def browser(args: argparse.Namespace, desktop: dict[str, tuple[float, float]]) -> None:
    """The Chromium leg, on a plain asyncio loop (Playwright starts its driver as a subprocess)."""
    from chromium_leg import chromium_call

    for size in args.sizes.split(","):
        process, port = start_patient(size)
        try:
            reader, writer = await asyncio.open_connection(LOOPBACK, port)
            signalling = StreamSignalling(reader, writer)
            try:
                figures = await chromium_call(signalling, args.seconds, size)
            finally:
                await signalling.close()
        finally:
            stop_patient(process)
        line = (f"{size}@30 from Chromium for {args.seconds:.0f} s: CPU {figures.cpu:.0f}% of "
                f"one core (its processes summed), frames shown {figures.fps:.1f}/s of "
                f"{figures.shown}, camera {figures.sent}")
        if size in desktop:
            cpu, fps = desktop[size]
            line += (f"; desktop {cpu:.0f}% -> desktop / Chromium {cpu / figures.cpu:.2f} "
                     "(target <= 1.0)")
            if min(fps, figures.fps) < MIN_FPS:
                line += (f"\n  (not the same work: {fps:.1f} and {figures.fps:.1f} frames/s shown; "
                         "the patient or the machine could not keep up: measure on a quiet one)")
        print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sizes", default="640x480,1280x720")
    parser.add_argument("--legs", default="desktop,chromium",
                        help="which callers: desktop, chromium or both (in that order)")
    parser.add_argument("--patient", metavar="SIZE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.patient:
        asyncio.run(patient(args.patient))
        return 0

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # each call's window closes; the bench goes on
    desktop_figures: dict[str, tuple[float, float]] = {}
    if "desktop" in args.legs:
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            desktop_figures = loop.run_until_complete(desktop(args))
    if "chromium" in args.legs:
        asyncio.set_event_loop(None)
        asyncio.run(browser(args, desktop_figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
