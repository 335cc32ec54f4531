"""Benchmark of calls through the TURN relay (coturn) against direct calls, on loopback.

The desktop is forced to relay through a real coturn started here, reaching it over UDP, over
TCP with UDP dropped, and over TLS with UDP dropped and TCP refused (the firewall stand-ins of
tests/turn_server.py). The patient is the waiting-room page in Debian's chromium (relay only
too, as the offer says) through the real server's hub; the desktop is the product's CallSession
with test sources. (An aiortc answerer would be slower through the relay: when its first check
meets the desktop's relay before the permission is there, aioice waits its 500 ms STUN
retransmission, where Chromium sends a triggered check.)

Prints, for direct and each relay path: start call -> first decoded remote frame at the desktop,
p50 over N calls (issue: the relay adds <= 100 ms on loopback), and where that time goes (p50 of
each step from the start: the offer sent (relay probe and gathering), the page's answer in,
connected (ICE and DTLS), the first frame); then the CPU of this process (the desktop's call;
the server thread idles) during a call of S seconds at 640x480, and coturn's.

    .venv/bin/python bench/relay_call_bench.py [--calls 10] [--seconds 15]
"""

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app.media.ice_config import IcePolicy  # noqa: E402
from tests.turn_server import TurnServer, turn_server  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paths(turn: TurnServer) -> dict[str, IcePolicy]:
    direct = IcePolicy.loopback()
    return {
        "direct": direct,
        "relay UDP": IcePolicy(servers=(turn.server(),), relay_only=True),
        "relay TCP (UDP dropped)": IcePolicy(servers=(turn.server(udp=False),), relay_only=True),
        "relay TLS (UDP dropped, TCP refused)": IcePolicy(
            servers=(turn.server(udp=False, tcp=False),), relay_only=True),
    }


#: The steps of a call's start, in order: milliseconds from the start to each.
STEPS = ("offer", "answer", "connected", "first_frame")


def report_first_frames(calls: dict[str, list[dict[str, float]]]) -> None:
    direct = statistics.median(call["first_frame"] for call in calls["direct"])
    for name, results in calls.items():
        times = [call["first_frame"] for call in results]
        p50 = statistics.median(times)
        added = "" if name == "direct" else f" (+{p50 - direct:.0f} ms)"
        print(f"{name}: start call -> first remote frame p50 {p50:.0f} ms{added}, "
              f"min {min(times):.0f}, max {max(times):.0f} over {len(times)} calls")
        steps = ", ".join(f"{step} {statistics.median(call[step] for call in results):.0f}"
                          for step in STEPS)
        print(f"    p50 ms from the start: {steps}")


async def chromium_patient(args: argparse.Namespace, turn: TurnServer) -> None:
    import httpx
    from pydantic import SecretStr
    from server_harness import access_tokens, database, seed

    from app.media.call_path import call_path
    from server.app import create_app
    from server.database import create_db_engine
    from server.settings import Settings
    from tests.server.call_helpers import desk_call, patient_browser, to_waiting_room
    from tests.server.live_server import live
    from tests.server.postgres import free_port

    spki = f"--ignore-certificate-errors-spki-list={turn.certificate.spki_sha256}"
    rounds = (args.calls + 1) * len(paths(turn))
    first_day = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0)
    with database(False) as url:
        seeded = seed(url, rounds, rounds, 1, first_day)
        secret = secrets.token_urlsafe(32)
        clinician, clerk = access_tokens(url, [seeded.clinician, seeded.clerks[0]], secret)
        port = free_port()
        engine = create_db_engine(url)
        app = create_app(Settings(database_url=url, public_url=f"http://127.0.0.1:{port}",
                                  secret_key=SecretStr(secret)), engine)
        appointments = iter(seeded.appointments)
        with live(app, port) as base:
            async with patient_browser(spki) as browser:

                async def one_call(ice: IcePolicy, seconds: float) -> dict[str, float]:
                    aid = str(next(appointments))
                    link = httpx.post(f"{base}/appointments/{aid}/patient-link", json={},
                                      headers={"Authorization": f"Bearer {clerk}"}).json()["url"]
                    async with desk_call(base, clinician, aid, ice=ice,
                                         connect_timeout=20.0) as desk:
                        page = await to_waiting_room(browser, link)
                        await asyncio.wait_for(desk.signalling.presence_changed.wait(), 10)
                        started = time.monotonic()
                        connected: list[float] = []
                        watch = asyncio.ensure_future(desk.session.wait_connected())
                        watch.add_done_callback(lambda _: connected.append(time.monotonic()))
                        await desk.session.start()
                        await asyncio.wait_for(desk.received.new_video.wait(), 20)
                        signalling = desk.signalling
                        result = {step: (at - started) * 1000 for step, at in zip(STEPS, (
                            signalling.offer_sent_at[0], signalling.answer_received_at[0],
                            connected[0] if connected else time.monotonic(), time.monotonic(),
                        ), strict=True)}
                        if seconds > 0:
                            await asyncio.sleep(1.0)
                            cpu0, turn0 = time.process_time(), cpu_seconds(turn.pid)
                            frames0, wall0 = desk.received.video_frames, time.monotonic()
                            await asyncio.sleep(seconds)
                            wall = time.monotonic() - wall0
                            result["cpu"] = (time.process_time() - cpu0) / wall * 100
                            result["turn_cpu"] = (cpu_seconds(turn.pid) - turn0) / wall * 100
                            result["fps"] = (desk.received.video_frames - frames0) / wall
                            assert desk.session.pc is not None
                            path = call_path(desk.session.pc, desk.session.relay)
                            print(f"{path.summary() if path else '?'}: 640x480 for {seconds:.0f}"
                                  f" s: desktop CPU {result['cpu']:.0f}% of one core, coturn "
                                  f"{result['turn_cpu']:.1f}%, {result['fps']:.1f} frames/s "
                                  "decoded")
                        await desk.session.hang_up()
                        await page.context.close()
                    return result

                calls = {name: [await one_call(ice, 0) for _ in range(args.calls)]
                         for name, ice in paths(turn).items()}
                report_first_frames(calls)
                for ice in paths(turn).values():
                    await one_call(ice, args.seconds)
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with turn_server() as turn:
        # The desktop trusts the relay's certificate as a hospital deploys its CA.
        os.environ["SSL_CERT_FILE"] = str(turn.certificate.ca)
        asyncio.run(chromium_patient(args, turn))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
