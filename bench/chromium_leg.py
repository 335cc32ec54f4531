"""The browser leg of bench/call_bench.py: the same call from Chromium (headless, fake camera and
microphone at the call's size and 30 fps, VP8 capped at aiortc's 1.5 Mbit/s) to the same patient
process, with the CPU of Chromium's processes (browser, renderer, GPU, utilities) summed.

The page is served by Playwright's request routing on http://127.0.0.1 (a secure context, so
getUserMedia works) and offers once ICE gathering is complete, like aiortc: no trickle.
"""

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

CHROMIUM = "/usr/bin/chromium"
PAGE_URL = "http://127.0.0.1:9/call.html"  # never fetched: Playwright answers it
#: aiortc's VP8 encoder caps itself at 1.5 Mbit/s (aiortc/codecs/vpx.py MAX_BITRATE).
MAX_BITRATE = 1_500_000

PAGE = """<!doctype html><html><body style="margin:0">
<video id="remote" autoplay playsinline muted style="width:1000px;height:700px"></video>
<video id="self" autoplay playsinline muted style="width:200px;height:150px"></video>
<script>
window.frames_shown = 0;
window.shown_size = "";
async function offer(width, height, maxBitrate) {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true,
    video: {width: {exact: width}, height: {exact: height}, frameRate: {ideal: 30}}});
  document.getElementById("self").srcObject = stream;
  const pc = window.pc = new RTCPeerConnection();
  pc.createDataChannel("chat");
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  for (const transceiver of pc.getTransceivers()) {
    if (transceiver.sender.track && transceiver.sender.track.kind === "video") {
      const vp8 = RTCRtpReceiver.getCapabilities("video").codecs
        .filter(c => c.mimeType === "video/VP8");
      transceiver.setCodecPreferences(vp8);
      const parameters = transceiver.sender.getParameters();
      parameters.encodings = [{maxBitrate: maxBitrate, maxFramerate: 30}];
      await transceiver.sender.setParameters(parameters);
    }
  }
  pc.ontrack = (event) => {
    if (event.track.kind !== "video") return;
    const video = document.getElementById("remote");
    video.srcObject = new MediaStream([event.track]);
    const count = (now, meta) => {
      window.frames_shown += 1;
      window.shown_size = meta.width + "x" + meta.height;
      video.requestVideoFrameCallback(count);
    };
    video.requestVideoFrameCallback(count);
  };
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== "complete") {
    await new Promise(done => pc.addEventListener("icegatheringstatechange",
      () => { if (pc.iceGatheringState === "complete") done(); }));
  }
  return pc.localDescription.sdp;
}
async function answer(sdp) { await window.pc.setRemoteDescription({type: "answer", sdp}); }
function sent_size() {
  const track = window.pc.getSenders().find(s => s.track && s.track.kind === "video").track;
  const s = track.getSettings();
  return s.width + "x" + s.height + "@" + s.frameRate;
}
</script></body></html>"""


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chromium_cpu_seconds() -> float:
    """CPU time so far of every Chromium process below this one (Playwright's driver, which
    is node, is not counted). Processes that ended in between are lost: none should."""
    children = _children()
    total, queue = 0.0, list(children.get(os.getpid(), []))
    while queue:
        pid = queue.pop()
        queue.extend(children.get(pid, []))
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            if b"chrom" in command:
                total += _cpu_seconds(pid)
        except OSError:
            continue
    return total


@dataclass
class BrowserFigures:
    cpu: float  # % of one core
    fps: float  # remote frames shown per second
    shown: str  # remote frame size as decoded
    sent: str  # camera size and rate as captured


async def chromium_call(signalling: Any, seconds: float, size: str) -> BrowserFigures:
    """One call from Chromium to the patient behind `signalling` (bench's StreamSignalling)."""
    from shared.realtime_protocol import SignalKind

    width, height = (int(n) for n in size.split("x"))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--use-fake-device-for-media-stream=fps=30", "--use-fake-ui-for-media-stream",
                  "--no-sandbox", "--headless=new", "--allow-loopback-in-peer-connection",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--autoplay-policy=no-user-gesture-required"])
        try:
            page = await browser.new_page()
            await page.route(PAGE_URL, lambda route: route.fulfill(
                status=200, content_type="text/html", body=PAGE))
            await page.goto(PAGE_URL)
            sdp = await page.evaluate("([w, h, b]) => offer(w, h, b)",
                                      [width, height, MAX_BITRATE])
            await signalling.send(SignalKind.OFFER, {"type": "offer", "sdp": sdp,
                                                     "generation": 1})
            while True:
                message = await signalling.receive()
                if message is None:
                    raise RuntimeError("the patient hung up before answering")
                if message.kind is SignalKind.ANSWER:
                    break
            await page.evaluate("(sdp) => answer(sdp)", message.payload["sdp"])
            began = time.monotonic()
            while await page.evaluate("window.frames_shown") == 0:
                if time.monotonic() - began > 30:
                    raise RuntimeError("Chromium showed no frame of the patient")
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # settle, as the desktop leg does
            frames0 = await page.evaluate("window.frames_shown")
            cpu0, wall0 = chromium_cpu_seconds(), time.monotonic()
            await asyncio.sleep(seconds)
            cpu1, wall = chromium_cpu_seconds(), time.monotonic() - wall0
            frames = await page.evaluate("window.frames_shown") - frames0
            shown = await page.evaluate("window.shown_size")
            sent = await page.evaluate("sent_size()")
            await signalling.send(SignalKind.HANGUP, {"reason": "hung_up"})
            return BrowserFigures((cpu1 - cpu0) / wall * 100, frames / wall, shown, sent)
        finally:
            await browser.close()
