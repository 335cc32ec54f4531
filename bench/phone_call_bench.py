"""Benchmark of phone calls through Janus's SIP plugin to a real SIP phone (baresip).

Root: it makes its own network namespace (as the tests do) with Janus (SIP plugin on
127.0.0.2), Kamailio as the trunk and baresip as the auto-answering phone playing a 1 kHz tone.
The desktop's PhoneSession (a 440 Hz tone as its microphone) dials N times through the server's
own call objects (server/services/phone_calls.py + server/janus/sip_call.py), in this process,
without HTTP or a database in between.

Prints, p50/p95 over the calls: click -> the phone sees the INVITE (baresip reporting the offer
on its control socket), click -> "connected" at the desktop, click -> the phone's tone heard at the
desktop; mouth-to-ear latency over B tone bursts each way in one connected call: desktop -> phone
(a 440 Hz burst injected as the desktop's microphone, its onset found in what the phone decodes,
read as baresip writes it) and phone -> desktop (the phone's source switched from a 3 kHz tone to
its 1 kHz one, the onset found in what the desktop decodes; this includes baresip switching its
source); then the CPU over S seconds of one connected call, per cent of one core: this process,
and the desktop's share alone (the process less the server's "sip-call" thread, which runs here).

    .venv/bin/python bench/phone_call_bench.py [--calls 20] [--seconds 10] [--bursts 20]
"""

import argparse
import array
import asyncio
import contextlib
import fractions
import os
import statistics
import sys
import tempfile
import threading
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
PHONE_TONE = 1000
#: The phone's voice between its bursts (its build has no silent source loaded).
OTHER_TONE = 3000
RATE = 48000
#: One microphone frame (20 ms), a burst's length, and the blocks an onset is looked for in.
FRAME = RATE // 50
BURST_SAMPLES = RATE // 5
BLOCK_SECONDS = 0.01
#: A block holds the tone when this share of its power is at the tone's frequency...
TONE_SHARE = 0.3
#: ...and it is louder than this (RMS of 16-bit samples): silence and codec noise are not onsets.
LOUD = 500.0


class BurstMicrophone(MediaStreamTrack):
    """The desktop's microphone for the latency runs: silence, and a 440 Hz burst on `fire()`,
    paced in real time like a capture device. `fired_at`: when the burst's first frame went out."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._start: float | None = None
        self._pts = 0
        self._burst_left = 0
        self._burst_pos = 0
        self._fire = False
        self.fired_at: float | None = None

    def fire(self) -> None:
        self.fired_at = None
        self._fire = True

    async def recv(self) -> AudioFrame:
        import math

        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        samples = array.array("h", bytes(2 * FRAME))
        if self._fire:
            self._fire, self._burst_left, self._burst_pos = False, BURST_SAMPLES, 0
            self.fired_at = time.monotonic()
        if self._burst_left > 0:
            for i in range(FRAME):
                n = self._burst_pos + i
                samples[i] = int(12000 * math.sin(2 * math.pi * DESK_TONE * n / RATE))
            self._burst_pos += FRAME
            self._burst_left -= FRAME
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += FRAME
        return frame


def tone_onset(samples: array.array, rate: int, tone: int) -> bool:  # type: ignore[type-arg]
    """Whether these samples (one block) hold the tone, loud."""
    from tests.server.group_calls.peers import tone_power

    if not samples:
        return False
    rms = (sum(float(x) * x for x in samples) / len(samples)) ** 0.5
    return rms > LOUD and tone_power(samples, rate, tone) > TONE_SHARE


class PhoneEar:
    """What the phone decodes, read as baresip's sndfile writes it (a WAV per call): the time
    each block of it was first seen here, and whether it holds the desktop's tone."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        #: The earlier calls' recordings: this call's is the one that appears next.
        self.earlier = set(folder.glob("*-dec.wav"))
        self.path: Path | None = None
        self.offset = 0
        self.channels = 2
        self.rate = RATE
        self.pending = array.array("h")
        #: (time seen, holds the tone) per block, in order.
        self.blocks: list[tuple[float, bool]] = []

    def poll(self) -> None:
        if self.path is None:
            found = set(self.folder.glob("*-dec.wav")) - self.earlier
            if not found:
                return
            header = next(iter(found)).read_bytes()[:4096]
            if b"data" not in header:
                return  # the header is still being written
            self.path = found.pop()
            self.channels = int.from_bytes(header[22:24], "little")
            self.rate = int.from_bytes(header[24:28], "little")
            self.offset = header.index(b"data") + 8
        with self.path.open("rb") as wav:
            wav.seek(self.offset)
            chunk = wav.read()
        whole = len(chunk) - len(chunk) % (2 * self.channels)
        if not whole:
            return
        self.offset += whole
        seen = time.monotonic()
        samples = array.array("h")
        samples.frombytes(chunk[:whole])
        self.pending.extend(samples[::self.channels])
        block = int(self.rate * BLOCK_SECONDS)
        while len(self.pending) >= block:
            part, self.pending = self.pending[:block], self.pending[block:]
            self.blocks.append((seen, tone_onset(part, self.rate, DESK_TONE)))


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
    def __init__(self, started: float, blocks: bool = False) -> None:
        self.started = started
        self.connected: float | None = None
        self.heard: float | None = None
        self.samples = array.array("h")
        self.readers: list[asyncio.Task[None]] = []
        #: (time decoded, holds the phone's tone) per 10 ms block of the phone's audio, when
        #: asked for (the latency runs: it costs CPU the CPU run must not count).
        self.blocks: list[tuple[float, bool]] = []
        self.want_blocks = blocks
        self._block = array.array("h")

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
                if self.want_blocks:
                    self._analyse(frame, rate)
                if self.heard is None and len(self.samples) >= rate // 10:
                    if tone_power(self.samples, rate, 1000) > 0.3:
                        self.heard = time.monotonic()

    def _analyse(self, frame: AudioFrame, rate: int) -> None:
        channels = len(frame.layout.channels)
        fresh = array.array("h")
        fresh.frombytes(bytes(frame.planes[0])[: frame.samples * channels * 2])
        self._block.extend(fresh[::channels])
        size = int(rate * BLOCK_SECONDS)
        while len(self._block) >= size:
            part, self._block = self._block[:size], self._block[size:]
            self.blocks.append((time.monotonic(), tone_onset(part, rate, PHONE_TONE)))


def cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


def server_thread_seconds() -> float:
    """CPU time of the server's call threads in this process (SipCall's "sip-call")."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for thread in threading.enumerate():
        if thread.name != "sip-call" or thread.native_id is None:
            continue
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)
            values = fields[1].split()
            total += (int(values[11]) + int(values[12])) / ticks
    return total


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


async def one_call(
    line: LocalLine, phone: object, hold: float = 0.0
) -> tuple[float, float, float, float, float]:
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
    cpu = desk_cpu = 0.0
    if hold:
        before, server_before, wall = cpu_seconds(), server_thread_seconds(), time.monotonic()
        await asyncio.sleep(hold)
        elapsed = time.monotonic() - wall
        cpu = (cpu_seconds() - before) / elapsed
        desk_cpu = cpu - (server_thread_seconds() - server_before) / elapsed
    await session.close()
    for reader in ear.readers:
        reader.cancel()
    if microphone.audio is not None:
        microphone.audio.stop()
    assert ear.connected is not None
    return invite - started, ear.connected - started, ear.heard - started, cpu, desk_cpu


async def first(blocks: list[tuple[float, bool]], since: int, deadline: float) -> float:
    """When the first block after `since` holding the tone was seen."""
    while True:
        for seen, tone in blocks[since:]:
            if tone:
                return seen
        assert time.monotonic() < deadline, "the burst was not heard"
        await asyncio.sleep(0.002)


async def quiet(blocks: list[tuple[float, bool]], seconds: float) -> None:
    """Waits until the last `seconds` of blocks hold no tone."""
    deadline = time.monotonic() + 10
    count = int(seconds / BLOCK_SECONDS)
    while len(blocks) < count or any(tone for _seen, tone in blocks[-count:]):
        assert time.monotonic() < deadline, (
            f"the tone does not stop ({len(blocks)} blocks, "
            f"{sum(tone for _seen, tone in blocks)} with the tone)")
        await asyncio.sleep(0.02)


async def mouth_to_ear(
    line: LocalLine, phone: object, folder: Path, bursts: int
) -> tuple[list[float], list[float]]:
    """Tone bursts each way through one connected call: the latencies (seconds)."""
    # baresip names its recordings by the second: a call in the same second as the last one
    # would write over that one's file.
    await asyncio.sleep(1.1)
    microphone = BurstMicrophone()
    started = time.monotonic()
    ear = Ear(started, blocks=True)
    phone_ear = PhoneEar(folder / "heard")
    session = PhoneSession(line, ear, audio=microphone, ice=IcePolicy(interfaces=(VETH_ADDRESS,)))
    polling = True

    async def poll_phone() -> None:
        while polling:
            phone_ear.poll()
            await asyncio.sleep(0.002)

    poller = asyncio.ensure_future(poll_phone())
    to_phone: list[float] = []
    to_desk: list[float] = []
    try:
        await session.start()
        deadline = time.monotonic() + 20
        while ear.heard is None:
            assert time.monotonic() < deadline, "the call did not connect with audio"
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)  # the jitter buffers settle
        for _ in range(bursts):
            await quiet(phone_ear.blocks, 0.3)
            since = len(phone_ear.blocks)
            microphone.fire()
            heard = await first(phone_ear.blocks, since, time.monotonic() + 3)
            assert microphone.fired_at is not None
            to_phone.append(heard - microphone.fired_at)
        for _ in range(bursts):
            # The phone's voice switched to another tone, then back to its own: its onset here.
            phone.command("ausrc", f"ausine,{OTHER_TONE}")  # type: ignore[attr-defined]
            await quiet(ear.blocks, 0.3)
            since = len(ear.blocks)
            switched = time.monotonic()
            phone.command("ausrc", f"ausine,{PHONE_TONE}")  # type: ignore[attr-defined]
            heard = await first(ear.blocks, since, time.monotonic() + 3)
            to_desk.append(heard - switched)
    finally:
        polling = False
        await poller
        await session.close()
        for reader in ear.readers:
            reader.cancel()
    return to_phone, to_desk


async def run(args: argparse.Namespace, line: LocalLine, phone: object, folder: Path) -> None:
    invites, connects, audio = [], [], []
    for _ in range(args.calls):
        invite, connected, heard, _cpu, _desk = await one_call(line, phone)
        invites.append(invite)
        connects.append(connected)
        audio.append(heard)
    print(f"{args.calls} calls")
    print(f"click -> INVITE at the phone: {percentiles(invites)}")
    print(f"click -> connected at the desktop: {percentiles(connects)}")
    print(f"click -> the phone's tone heard at the desktop: {percentiles(audio)}")
    if args.bursts:
        to_phone, to_desk = await mouth_to_ear(line, phone, folder, args.bursts)
        print(f"mouth-to-ear, desktop -> phone ({len(to_phone)} bursts): {percentiles(to_phone)}")
        print(f"mouth-to-ear, phone -> desktop ({len(to_desk)} bursts, with baresip switching "
              f"its source): {percentiles(to_desk)}")
    *_, cpu, desk_cpu = await one_call(line, phone, hold=args.seconds)
    print(f"CPU during a connected call ({args.seconds:.0f} s): the process {cpu * 100:.1f} % "
          f"of one core; the desktop's part (less the server's sip-call thread) "
          f"{desk_cpu * 100:.1f} %")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--bursts", type=int, default=20)
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
        local = LocalLine(janus.url, janus.config.api_secret, line)
        asyncio.run(run(args, local, phone, Path(folder) / "phone"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
