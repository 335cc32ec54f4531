"""Benchmark of a group call on a real Janus: the clinician's desktop and N synthetic guests.

Janus runs in a network namespace this script creates (root; as the tests do: ICE on a veth
holding 127.0.0.2). The guests are aiortc GroupSessions in a separate process (their CPU is not
counted): V of them send a small test picture (160x120, 15 fps), the others audio only, one
of them a tone. The desktop is the product: GroupCallService + GroupCallWindow offscreen on the
qasync loop, a test-pattern camera and tone, 9 tiles shown, the AudioBridge mix played.

Prints: a guest starting to join -> seen in the desktop's participant list, p50/p95; time for
the desktop's nine tiles to show a first picture; then over S seconds with 9 tiles: CPU of the
desktop (process time / wall; issue: <= 100 % of one core), its resident memory (<= 500 MB),
Janus's CPU, the guests' process's CPU, frames painted per tile per second, and whether anyone
was dropped (failed to join, or no longer in the desktop's list at the end).

    .venv/bin/python bench/group_call_bench.py [--guests 50] [--video 10] [--seconds 20]
"""

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.media.ice_config import IcePolicy  # noqa: E402
from server.janus.client import JanusClient  # noqa: E402
from server.janus.credentials import janus_token, join_token  # noqa: E402
from server.janus.rooms import GroupRooms  # noqa: E402
from shared.group_call_protocol import GroupJoin  # noqa: E402

VETH_ADDRESS = "127.0.0.2"
SECRET = secrets.token_urlsafe(32)


def credentials(janus_url: str, ws_url: str, config: Any, count: int) -> list[GroupJoin]:
    """The desktop's credential first, then one per guest: what the server would mint."""
    rooms = GroupRooms(JanusClient(janus_url, config.api_secret), config.room_key, SECRET)
    appointment = uuid4()
    expires = datetime.now(UTC) + timedelta(hours=2)
    joins = []
    for n in range(count + 1):
        who = "staff-desktop" if n == 0 else f"guest-{n}"
        token = join_token(SECRET, appointment, who)
        room = rooms.admit(appointment, token, "bench")
        joins.append(GroupJoin(
            janus_url=ws_url, janus_token=janus_token(config.token_secret, expires), room=room,
            join_token=token, id=who, display="Dr Bench" if n == 0 else f"Guest {n}",
            role="staff" if n == 0 else "guest", expires_at=expires,
        ))
    return joins


# -- the guests' process -------------------------------------------------------------------------

async def run_guests(joins: list[GroupJoin], video: int, hold: float) -> None:
    from aiortc.contrib.media import MediaPlayer

    from app.media.group_session import GroupSession

    sessions = []
    players = []
    for index, join in enumerate(joins):
        camera = MediaPlayer("testsrc=size=160x120:rate=15", format="lavfi") if index < video \
            else None
        tone = MediaPlayer("sine=frequency=500", format="lavfi") if index == 0 else None
        players += [p for p in (camera, tone) if p is not None]
        session = GroupSession(join, audio=tone.audio if tone else None,
                               video=camera.video if camera else None,
                               ice=IcePolicy(interfaces=(VETH_ADDRESS,)))
        began = time.time()
        try:
            await session.start()
        except Exception as error:  # reported, counted as dropped
            print(json.dumps({"failed": join.id, "error": str(error)}), flush=True)
            continue
        sessions.append(session)
        print(json.dumps({"joined": join.id, "began": began, "at": time.time()}), flush=True)
    await asyncio.sleep(hold)
    for session in sessions:
        await session.leave()


def guests_main() -> int:
    data = json.loads(sys.stdin.readline())
    joins = [GroupJoin.model_validate(j) for j in data["joins"]]
    asyncio.run(run_guests(joins, data["video"], data["hold"]))
    return 0


# -- the desktop ---------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guests", type=int, default=50)
    parser.add_argument("--video", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--guests-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.guests_worker:
        return guests_main()

    from tests.janus_server import janus_server
    from tests.netns import net_namespace

    with tempfile.TemporaryDirectory() as folder, net_namespace() as namespace, \
            janus_server(namespace, Path(folder) / "janus") as janus, namespace.entered():
        return asyncio_desktop(args, janus, namespace)


def asyncio_desktop(args: argparse.Namespace, janus: Any, namespace: Any) -> int:
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.media.capture import CaptureProfile
    from app.services.call_service import CallConfig, CallService
    from app.services.group_call_service import GroupCallService
    from app.ui.group_call.group_call_window import GroupCallWindow

    assert janus.process is not None
    joins = credentials(janus.url, janus.ws_url, janus.config, args.guests)
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    # No camera or microphone here: the test pattern and tone stand in (the product's own
    # switch for demos and machines without devices).
    config = CallConfig(profile=CaptureProfile(640, 480, 30), allow_test_sources=True)
    calls = CallService(replace(config, options=replace_ice(config.options)), settings)
    service = GroupCallService(calls)
    window = GroupCallWindow(service, "Bench group")
    window.show()
    seen: dict[str, float] = {}
    service.participantsChanged.connect(
        lambda people: [seen.setdefault(p.id, time.time()) for p in people])
    hold = 60.0 + args.guests * 1.5 + args.seconds

    async def scenario() -> dict[str, Any]:
        await service.join(joins[0])
        worker = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--guests-worker",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert worker.stdin is not None and worker.stdout is not None
        payload = {"joins": [j.model_dump(mode="json") for j in joins[1:]],
                   "video": args.video, "hold": hold}
        worker.stdin.write((json.dumps(payload) + "\n").encode())
        await worker.stdin.drain()
        joined: dict[str, float] = {}
        failed: list[str] = []
        started = time.monotonic()
        while len(joined) + len(failed) < args.guests:
            line = await asyncio.wait_for(worker.stdout.readline(), 120)
            if not line:
                break
            event = json.loads(line)
            if "joined" in event:
                joined[event["joined"]] = event["began"]
            else:
                failed.append(event["failed"])
        join_seconds = time.monotonic() - started
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(g in seen for g in joined):
            await asyncio.sleep(0.05)
        delays = sorted(max(0.0, seen[g] - joined[g]) for g in joined if g in seen)
        # Nine tiles, each with a first picture (the video senders are on the first page).
        tiles_from = time.monotonic()
        while time.monotonic() < tiles_from + 30:
            if sum(1 for n in service.tiles_shown.values() if n > 0) >= min(9, args.video):
                break
            await asyncio.sleep(0.05)
        tiles_after = time.monotonic() - tiles_from
        before = dict(service.tiles_shown)
        cpu0, janus0, wall0 = time.process_time(), cpu_seconds(janus.process.pid), time.monotonic()
        guests0 = cpu_seconds(worker.pid)
        await asyncio.sleep(args.seconds)
        wall = time.monotonic() - wall0
        cpu = (time.process_time() - cpu0) / wall
        janus_cpu = (cpu_seconds(janus.process.pid) - janus0) / wall
        guests_cpu = (cpu_seconds(worker.pid) - guests0) / wall
        # Nobody dropped meanwhile: every guest that joined is still in the desktop's list.
        still_in = len({p.id for p in service.participants} & set(joined))
        fps = [(n - before.get(f, 0)) / wall for f, n in service.tiles_shown.items()]
        result = {
            "guests": args.guests, "video": args.video, "joined": len(joined),
            "failed": failed, "in_list": len([g for g in joined if g in seen]),
            "join_all_seconds": round(join_seconds, 1),
            "seen_p50_ms": round(statistics.median(delays) * 1000) if delays else None,
            "seen_p95_ms": round(delays[int(0.95 * (len(delays) - 1))] * 1000) if delays else None,
            "tiles_first_picture_s": round(tiles_after, 2),
            "desktop_cpu_percent": round(cpu * 100), "janus_cpu_percent": round(janus_cpu * 100),
            "guests_process_cpu_percent": round(guests_cpu * 100), "in_list_at_end": still_in,
            "load_average_1min": round(os.getloadavg()[0], 1),
            "desktop_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "tiles": len(fps), "tile_fps_min": round(min(fps), 1) if fps else 0,
            "tile_fps_mean": round(statistics.mean(fps), 1) if fps else 0,
        }
        await service.leave()
        worker.kill()
        await worker.wait()
        service.close()
        calls.close()
        await asyncio.sleep(0.1)
        return result

    with loop:
        result = loop.run_until_complete(scenario())
    print(json.dumps(result, indent=1))
    return 0


def replace_ice(options: Any) -> Any:
    return replace(options, ice=IcePolicy(interfaces=(VETH_ADDRESS,)))


if __name__ == "__main__":
    sys.exit(main())
