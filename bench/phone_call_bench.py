"""Benchmark of phone calls through Janus's SIP plugin to a real SIP phone (baresip).

Root: it makes its own network namespace (as the tests do) with Janus (SIP plugin on
127.0.0.2), Kamailio as the trunk and baresip as the auto-answering phone playing a 1 kHz tone.
The desktop's PhoneSession (a 440 Hz tone as its microphone) dials N times through the server's
own call objects (server/services/phone_calls.py + server/janus/sip_call.py), in this process,
without HTTP or a database in between.

Prints, p50/p95 over the calls: click -> the phone sees the INVITE (baresip reporting the offer
on its control socket), click -> "connected" at the desktop, click -> the phone's tone heard at the
desktop; then the CPU of this process (desktop media + the server's call thread) over S seconds
of one connected call, per cent of one core.

    .venv/bin/python bench/phone_call_bench.py [--calls 20] [--seconds 10]
"""

import argparse
import array
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiortc import MediaStreamTrack  # noqa: E402
from aiortc.contrib.media import MediaPlayer  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402
from av import AudioFrame  # noqa: E402

from app.media.ice_config import IcePolicy  # noqa: E402
from app.media.phone_session import PhoneLine, PhoneListener, PhoneSession  # noqa: E402
from server.janus.client import JanusClient  # noqa: E402
from server.janus.sip_call import SipCall, SipLine  # noqa: E402
from server.services.phone_calls import PhoneCall  # noqa: E402
from shared.clock import Clock  # noqa: E402
from shared.phone_call_protocol import PhoneCallStarted, PhoneEvent  # noqa: E402

VETH_ADDRESS = "127.0.0.2"
PATIENT = "+442079460961"
DESK_TONE = 440


class LocalLine(PhoneLine):
    """The server's side in this process: one PhoneCall per dial."""

    def __init__(self, janus_url: str, api_secret: str, line: SipLine) -> None:
        self.client = JanusClient(janus_url, api_secret)
        self.line = line
        self.calls: dict[UUID, PhoneCall] = {}

    async def dial(self, sdp: str) -> PhoneCallStarted:
        call = PhoneCall(
            id=uuid4(), appointment_id=uuid4(), user_id=uuid4(), number=PATIENT,
            started_at=datetime.now(UTC), ring_seconds=30, clock=Clock(),
            on_answered=lambda _call: None, on_ended=lambda _call: None,
        )
        self.calls[call.id] = call
        call.begin(SipCall(self.client, self.line, PATIENT, sdp, call.sip_event, call.sip_failed))
        return PhoneCallStarted(call_id=call.id, number=PATIENT, ring_seconds=30)

    async def events(self, call_id: UUID, after: int) -> list[PhoneEvent]:
        return await asyncio.to_thread(self.calls[call_id].wait_events, after, 2.0)

    async def hang_up(self, call_id: UUID) -> None:
        await asyncio.to_thread(self.calls[call_id].hang_up)

    async def keys(self, call_id: UUID, digits: str) -> None:
        raise NotImplementedError

    async def hold(self, call_id: UUID, hold: bool) -> None:
        raise NotImplementedError


class Ear(PhoneListener):
    def __init__(self, started: float) -> None:
        self.started = started
        self.connected: float | None = None
        self.heard: float | None = None
        self.samples = array.array("h")
        self.readers: list[asyncio.Task[None]] = []

    def event(self, event: PhoneEvent) -> None:
        if event.state == "connected" and self.connected is None:
            self.connected = time.monotonic()

    def remote_track(self, track: MediaStreamTrack) -> None:
        self.readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        from tests.server.group_calls.peers import keep_last, tone_power

        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                rate = keep_last(self.samples, frame)
                if self.heard is None and len(self.samples) >= rate // 10:
                    if tone_power(self.samples, rate, 1000) > 0.3:
                        self.heard = time.monotonic()


def cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


async def one_call(line: LocalLine, phone: object, hold: float = 0.0) -> tuple[float, ...]:
    microphone = MediaPlayer(f"sine=frequency={DESK_TONE}", format="lavfi")
    # An auto-answering baresip reports the INVITE as its offer arriving (CALL_REMOTE_SDP).
    incoming_before = phone.event_types().count("CALL_REMOTE_SDP")  # type: ignore[attr-defined]
    started = time.monotonic()
    ear = Ear(started)
    session = PhoneSession(line, ear, audio=microphone.audio,
                           ice=IcePolicy(interfaces=(VETH_ADDRESS,)))
    await session.start()
    invite: float | None = None
    deadline = started + 20
    while ear.heard is None or invite is None:
        if invite is None and phone.event_types().count(  # type: ignore[attr-defined]
                "CALL_REMOTE_SDP") > incoming_before:
            invite = time.monotonic()
        assert time.monotonic() < deadline, "the call did not connect with audio"
        await asyncio.sleep(0.005)
    cpu = 0.0
    if hold:
        before, wall = cpu_seconds(), time.monotonic()
        await asyncio.sleep(hold)
        cpu = (cpu_seconds() - before) / (time.monotonic() - wall)
    await session.close()
    for reader in ear.readers:
        reader.cancel()
    if microphone.audio is not None:
        microphone.audio.stop()
    assert ear.connected is not None
    return invite - started, ear.connected - started, ear.heard - started, cpu


async def run(args: argparse.Namespace, line: LocalLine, phone: object) -> None:
    invites, connects, audio = [], [], []
    for _ in range(args.calls):
        invite, connected, heard, _cpu = await one_call(line, phone)
        invites.append(invite)
        connects.append(connected)
        audio.append(heard)
    print(f"{args.calls} calls")
    print(f"click -> INVITE at the phone: {percentiles(invites)}")
    print(f"click -> connected at the desktop: {percentiles(connects)}")
    print(f"click -> the phone's tone heard at the desktop: {percentiles(audio)}")
    *_, cpu = await one_call(line, phone, hold=args.seconds)
    print(f"CPU during a connected call ({args.seconds:.0f} s): {cpu * 100:.1f} % of one core "
          "(desktop media and the server's call thread together)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    from tests.janus_server import janus_server
    from tests.netns import net_namespace
    from tests.sip.phone import sip_phone
    from tests.sip.registrar import sip_registrar

    with tempfile.TemporaryDirectory() as folder, net_namespace() as namespace, \
            janus_server(namespace, Path(folder) / "janus", sip=True) as janus, \
            sip_registrar(namespace, Path(folder) / "kamailio", "bench-password") as trunk, \
            sip_phone(namespace, Path(folder) / "phone", PATIENT, trunk.uri) as phone, \
            namespace.entered():
        line = SipLine(proxy=trunk.uri, domain=VETH_ADDRESS, username="", secret="",
                       authuser="", caller_id="+442079460000", display_name="Bench clinic")
        asyncio.run(run(args, LocalLine(janus.url, janus.config.api_secret, line), phone))
    return 0


if __name__ == "__main__":
    sys.exit(main())
