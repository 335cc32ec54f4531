"""A real call between the desktop's CallSession and the patient's page in headless Chromium.

The desktop side: a clinician's realtime socket (websockets, asyncio) carries the call's signals
(`HubSocketSignalling`); the session is app/media's CallSession with lavfi test sources. The
patient side: async Playwright driving Debian's chromium with the fake camera and microphone.
Everything runs in the test's event loop; the server runs in its own thread (live_server).

Loopback only: aiortc's ICE is confined to 127.0.0.1, and the page's answer is cut down to its
127.0.0.1 candidates before the desktop sees it (Chromium cannot be told to gather on loopback
only). Chromium learns only 127.0.0.1 from the offer, so it sends to nothing else; but it sends
its checks from every local socket, and a check from its LAN socket (192.0.2.2 → 127.0.0.1)
would make aioice learn a peer-reflexive candidate on the LAN address and answer there. So
during the test aioice ignores checks that do not come from 127.0.0.1 (`loopback_checks_only`).
"""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import pytest
from aiortc import RTCPeerConnection
from aiortc.contrib.media import MediaPlayer
from playwright.async_api import Browser, Page, async_playwright
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.media.call_session import CallRole, CallSession, IceRenewal
from app.media.call_state import CallState
from app.media.ice_config import LOOPBACK, candidate_addresses
from app.media.signalling import IncomingSignal, Signalling, SignallingError, checked_payload
from app.media.tracks import SwitchableTrack
from shared.realtime_protocol import SignalKind
from tests.media_peers import RecordingListener, quick_options
from tests.polling import eventually
from tests.server.browser_helpers import ARGS, CHROMIUM, DESKTOP, PHONE

#: Long enough for a slow machine; a test waits this long only when it is failing.
DEADLINE = 10.0


def loopback_only(sdp: str) -> str:
    """`sdp` without the candidates on addresses other than 127.0.0.1."""
    kept = [
        line for line in sdp.split("\r\n")
        if not line.startswith("a=candidate:") or candidate_addresses(line) == [LOOPBACK]
    ]
    return "\r\n".join(kept)


@contextmanager
def loopback_checks_only() -> Iterator[None]:
    """aioice answers (and learns peer-reflexive candidates from) checks from 127.0.0.1 only."""
    original = aioice.ice.Connection.request_received

    def request_received(
        self: aioice.ice.Connection, message: Any, addr: tuple[str, int], protocol: Any
    ) -> None:
        if addr[0] == LOOPBACK:
            original(self, message, addr, protocol)

    aioice.ice.Connection.request_received = request_received  # type: ignore[method-assign]
    try:
        yield
    finally:
        aioice.ice.Connection.request_received = original  # type: ignore[method-assign]


class HubSocketSignalling(Signalling):
    """The desktop's end: signals out on the realtime socket, the patient's relayed back in."""

    def __init__(self, socket: ClientConnection, appointment_id: str) -> None:
        self.socket = socket
        self.appointment_id = appointment_id
        self._inbox: asyncio.Queue[IncomingSignal | None] = asyncio.Queue()
        self._closed = False
        #: Every payload sent and received (as the page sent it), for the tests to inspect.
        self.sent: list[tuple[SignalKind, dict[str, Any]]] = []
        self.received: list[tuple[SignalKind, dict[str, Any]]] = []
        self.offer_sent_at: list[float] = []
        self.answer_received_at: list[float] = []
        self.presence: list[str] = []
        self.presence_changed = asyncio.Event()

    async def send(self, kind: SignalKind, payload: dict[str, Any]) -> None:
        if self._closed:
            raise SignallingError("signalling is closed")
        payload = checked_payload(payload)
        message = {"type": "signal", "appointment_id": self.appointment_id,
                   "kind": kind.value, "payload": payload}
        try:
            await self.socket.send(json.dumps(message))
        except ConnectionClosed as error:
            raise SignallingError(str(error)) from None
        self.sent.append((kind, payload))
        if kind is SignalKind.OFFER:
            self.offer_sent_at.append(time.monotonic())

    async def receive(self) -> IncomingSignal | None:
        if self._closed and self._inbox.empty():
            return None
        return await self._inbox.get()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._inbox.put_nowait(None)

    async def read_socket(self) -> None:
        """Route the socket's events: the patient's signals to the session, presence noted."""
        with contextlib.suppress(ConnectionClosed):
            async for text in self.socket:
                event = json.loads(text)
                if event.get("appointment_id") != self.appointment_id:
                    continue
                if event["type"] == "presence":
                    self.presence.append(event["state"])
                    self.presence_changed.set()
                elif event["type"] == "signal" and event["sender"] == "patient":
                    self._deliver(SignalKind(event["kind"]), event["payload"])

    def _deliver(self, kind: SignalKind, payload: dict[str, Any]) -> None:
        self.received.append((kind, payload))
        if kind is SignalKind.ANSWER:
            self.answer_received_at.append(time.monotonic())
            payload = payload | {"sdp": loopback_only(str(payload.get("sdp", "")))}
        elif kind is SignalKind.CANDIDATE:
            text = str(payload.get("candidate") or "")
            if text and candidate_addresses("a=" + text) != [LOOPBACK]:
                return  # the page trickled a LAN address: never let aiortc check it
        self._inbox.put_nowait(IncomingSignal(kind, payload))


@dataclass
class Desk:
    """The clinician's desktop in a call: socket signalling, lavfi camera and tone, session."""

    signalling: HubSocketSignalling
    session: CallSession
    listener: RecordingListener
    first_frame_at: list[float] = field(default_factory=list)

    @property
    def received(self) -> Any:
        return self.listener.received


@asynccontextmanager
async def desk_call(
    base: str, access_token: str, appointment_id: str, camera: bool = True,
    renew_ice: IceRenewal | None = None, **options: object
) -> AsyncIterator[Desk]:
    """Sign in on the realtime socket and prepare a CallSession (not started) for the call;
    `renew_ice` gives a reconnection fresh TURN credentials (the desktop asks the server)."""
    url = base.replace("http", "ws", 1) + "/realtime"
    with loopback_checks_only():
        async with connect(url, open_timeout=DEADLINE) as socket:
            await socket.send(json.dumps({"type": "auth", "access_token": access_token}))
            hello = json.loads(await asyncio.wait_for(socket.recv(), DEADLINE))
            assert hello["type"] == "hello", hello
            async with _desk(HubSocketSignalling(socket, appointment_id), options,
                             camera, renew_ice) as desk:
                yield desk


@asynccontextmanager
async def _desk(
    signalling: HubSocketSignalling, options: dict[str, object], with_camera: bool = True,
    renew_ice: IceRenewal | None = None,
) -> AsyncIterator[Desk]:
    """The session with lavfi sources over `signalling` (no video track at all without a
    camera, as the desktop sends none); hung up and stopped afterwards."""
    reader = asyncio.ensure_future(signalling.read_socket())
    camera = MediaPlayer("testsrc=size=640x480:rate=30", format="lavfi")
    microphone = MediaPlayer("sine=frequency=440", format="lavfi")
    video = SwitchableTrack("video", camera.video)
    audio = SwitchableTrack("audio", microphone.audio)
    listener = RecordingListener()
    session = CallSession(
        signalling, quick_options(**options), listener,
        role=CallRole.CALLER, audio=audio, video=video if with_camera else None,
        renew_ice=renew_ice,
    )
    desk = Desk(signalling, session, listener)
    watcher = asyncio.ensure_future(_first_frame(desk))
    try:
        yield desk
    finally:
        watcher.cancel()
        if session.state not in (CallState.IDLE, CallState.ENDED):
            await session.hang_up()
        listener.stop()
        for track in (video, audio, camera.video, microphone.audio):
            if track is not None:
                track.stop()
        await signalling.close()
        reader.cancel()


async def drop_network(pc: RTCPeerConnection) -> None:
    """The desktop's network goes away: its ICE sockets close, and nothing tells the page."""
    transports = {t.sender.transport.transport for t in pc.getTransceivers()}
    if pc.sctp is not None:
        transports.add(pc.sctp.transport.transport)
    for transport in transports:
        await transport._connection.close()


async def _first_frame(desk: Desk) -> None:
    await desk.received.new_video.wait()
    desk.first_frame_at.append(time.monotonic())


@asynccontextmanager
async def patient_browser(*extra_args: str) -> AsyncIterator[Browser]:
    """Headless Chromium with the fake camera and microphone (skips without chromium)."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*ARGS, *extra_args], headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def shown(page: Page, step: str, timeout: float = 15_000) -> None:
    await page.wait_for_selector(f'body[data-showing="{step}"]', timeout=timeout)


async def device_checked(browser: Browser, link: str, init_script: str | None = None) -> Page:
    """A new tab that opens the link and shows the device check with the camera working."""
    context = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = await context.new_page()
    if init_script:
        await page.add_init_script(init_script)
    await page.goto(link)
    await shown(page, "welcome")
    await page.get_by_role("button", name="Continue").click()
    await shown(page, "device-check")
    await page.wait_for_selector('#camera-state[data-state="ok"]')
    return page


async def to_waiting_room(browser: Browser, link: str, init_script: str | None = None) -> Page:
    """A new tab that opens the link, passes the device check and waits in the waiting room."""
    page = await device_checked(browser, link, init_script)
    await page.get_by_role("button", name="Join the waiting room").click()
    await shown(page, "waiting")
    await page.wait_for_selector('#connection[data-state="online"]')
    return page


async def page_eventually(page: Page, script: str, what: str = "") -> Any:
    """Poll `script` in the page until it is truthy (the page's CSP forbids wait_for_function's
    eval; evaluate itself works)."""
    return await eventually(lambda: page.evaluate(script), what=what or script)


async def laid_out(page: Page) -> None:
    """Wait until the page has laid out and painted what changed (two animation frames: the
    first runs before the layout, the second after it was painted)."""
    await page.evaluate(
        "new Promise(function (done) {"
        "  requestAnimationFrame(function () { requestAnimationFrame(done); }); })")


async def call_stats(page: Page) -> dict[str, Any]:
    """The page's own getStats() summary (window.clinicDesk.callStats in call.js)."""
    stats: dict[str, Any] = await page.evaluate("window.clinicDesk.callStats()")
    return stats


async def screenshots(page: Page, folder: Any, name: str) -> None:
    """Save the viewport at desktop (1280x800) and phone (390x844) sizes, whole page."""
    if folder is None:
        return
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await laid_out(page)
        await page.screenshot(path=str(folder / f"patient-{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)
