"""Capture: device lists per platform, switching sources, screen share, frames, PCM."""

import array
import asyncio
from pathlib import Path

import pytest
from aiortc import MediaStreamTrack
from av import VideoFrame

from app.media.audio_output import PCM_CHANNELS, PcmPump
from app.media.capture import CaptureProfile, LocalMedia, open_player, player_arguments
from app.media.devices import (
    TEST_PATTERN_ID,
    DeviceKind,
    MediaDevice,
    alsa_microphones,
    choose,
    linux_cameras,
    list_devices,
    parse_avfoundation_list,
    parse_dshow_list,
    pattern_camera,
    tone_microphone,
)
from app.media.errors import DeviceUnavailable
from app.media.frames import FrameSink, PaintableImage, fit_size
from app.media.screen_share import PushedVideoTrack, lavfi_screen, screen_device
from tests.polling import eventually


def test_test_sources_are_always_listed_unless_the_policy_says_no() -> None:
    cameras = list_devices(DeviceKind.CAMERA)
    assert cameras[-1].id == TEST_PATTERN_ID and cameras[-1].format == "lavfi"
    assert list_devices(DeviceKind.MICROPHONE)[-1].name == "Test tone"
    assert all(not d.is_test_source for d in list_devices(DeviceKind.CAMERA, False))


def test_choose_prefers_the_remembered_then_a_real_device() -> None:
    real = MediaDevice(DeviceKind.CAMERA, "v4l2:Cam:video0", "Cam", "/dev/video0", "v4l2")
    devices = [real, pattern_camera()]
    assert choose(devices, TEST_PATTERN_ID) == pattern_camera()
    assert choose(devices, "gone") == real
    assert choose([pattern_camera()], None) == pattern_camera()
    assert choose([], None) is None


def test_linux_cameras_and_alsa_microphones(tmp_path: Path) -> None:
    for node, name, index in (("video0", "HD Webcam", "0"), ("video1", "HD Webcam", "1"),
                              ("video2", "USB Camera", "0")):
        (tmp_path / node).mkdir()
        (tmp_path / node / "name").write_text(name + "\n")
        (tmp_path / node / "index").write_text(index + "\n")
    cameras = linux_cameras(tmp_path)
    assert [(c.name, c.file, c.format) for c in cameras] == [
        ("HD Webcam", "/dev/video0", "v4l2"), ("USB Camera", "/dev/video2", "v4l2")]
    pcm = tmp_path / "pcm"
    pcm.write_text("00-00: ALC3246 Analog : ALC3246 Analog : playback 1 : capture 1\n"
                   "00-03: HDMI 0 : HDMI 0 : playback 1\n")
    assert [(m.name, m.file) for m in alsa_microphones(pcm)] == [("ALC3246 Analog", "hw:0,0")]


def test_windows_and_macos_device_logs_are_parsed() -> None:
    dshow = parse_dshow_list([
        '"Integrated Webcam" (video)',
        '  Alternative name "@device_pnp_\\\\?\\usb#vid"',
        '"Microphone Array (Realtek(R) Audio)" (audio)',
    ])
    assert [(d.kind, d.file) for d in dshow] == [
        (DeviceKind.CAMERA, "video=Integrated Webcam"),
        (DeviceKind.MICROPHONE, "audio=Microphone Array (Realtek(R) Audio)"),
    ]
    mac = parse_avfoundation_list([
        "AVFoundation video devices:", "[0] FaceTime HD Camera", "[1] Capture screen 0",
        "AVFoundation audio devices:", "[0] MacBook Pro Microphone",
    ])
    assert [(d.name, d.file) for d in mac] == [
        ("FaceTime HD Camera", "0:none"), ("MacBook Pro Microphone", "none:0")]


def test_player_arguments_per_platform() -> None:
    profile = CaptureProfile(1280, 720, 30)
    assert player_arguments(pattern_camera(), profile)[0] == (
        "testsrc=size=1280x720:rate=30,format=yuv420p")
    cam = MediaDevice(DeviceKind.CAMERA, "x", "Cam", "video=Cam", "dshow")
    assert player_arguments(cam, profile) == (
        "video=Cam", "dshow", {"video_size": "1280x720", "framerate": "30"})
    assert player_arguments(tone_microphone(), profile) == ("sine=frequency=440", "lavfi", {})
    missing = MediaDevice(DeviceKind.CAMERA, "v", "Gone", "/dev/video99", "v4l2")
    with pytest.raises(DeviceUnavailable, match="Gone could not be opened"):
        open_player(missing, profile)


def test_screen_device_per_platform() -> None:
    assert screen_device("linux", {"DISPLAY": ":0"}).format == "x11grab"  # type: ignore[union-attr]
    assert screen_device("linux", {}) is None
    assert screen_device("linux", {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}) is None
    assert screen_device("win32", {}).format == "gdigrab"  # type: ignore[union-attr]
    assert screen_device("darwin", {}).format == "avfoundation"  # type: ignore[union-attr]


async def next_video(track: object) -> VideoFrame:
    frame = await asyncio.wait_for(track.recv(), 5)  # type: ignore[attr-defined]
    assert isinstance(frame, VideoFrame)
    return frame


@pytest.mark.asyncio
async def test_switching_camera_and_sharing_the_screen_keep_one_continuous_track() -> None:
    media = LocalMedia(CaptureProfile(320, 240, 30))
    try:
        await media.use_camera(pattern_camera())
        await media.use_microphone(tone_microphone())
        first = await next_video(media.outgoing_video)
        assert (first.width, first.height) == (320, 240)
        assert (await next_video(media.self_view)).width == 320

        other = MediaDevice(DeviceKind.CAMERA, "lavfi:bars", "Bars",
                            "smptebars=size=640x360:rate=30", "lavfi")
        await media.use_camera(other)
        switched = await next_video(media.outgoing_video)
        while switched.width != 640:
            switched = await next_video(media.outgoing_video)
        assert switched.pts is not None and first.pts is not None and switched.pts > first.pts

        media.share_screen(await_player_video(lavfi_screen(1280, 720)))
        shared = await next_video(media.outgoing_video)
        assert (shared.width, shared.height) == (1280, 720)
        assert (await next_video(media.self_view)).width == 640  # the self-view stays the camera
        media.stop_screen_share()
        assert (await next_video(media.outgoing_video)).width == 640
        assert not media.sharing_screen
    finally:
        media.close()


def await_player_video(device: MediaDevice) -> MediaStreamTrack:
    player = open_player(device, CaptureProfile())
    assert player.video is not None
    return player.video


@pytest.mark.asyncio
async def test_a_pushed_screen_image_becomes_a_video_frame() -> None:
    track = PushedVideoTrack()
    width, height, stride = 64, 48, 64 * 3 + 8
    track.push(bytes([200]) * stride * height, width, height, stride)
    frame = await next_video(track)
    assert (frame.width, frame.height) == (64, 48)
    track.stop()


def test_fit_size_keeps_the_aspect_ratio_and_even_sizes() -> None:
    assert fit_size(1280, 720, 640, 640) == (640, 360)
    assert fit_size(640, 480, 1000, 300) == (400, 300)
    assert fit_size(640, 480, 333, 333) == (332, 248)


@pytest.mark.asyncio
async def test_frame_sink_scales_to_the_target_off_the_loop() -> None:
    media = LocalMedia(CaptureProfile(640, 480, 30))
    images: list[PaintableImage] = []
    sink = FrameSink(images.append)
    try:
        await media.use_camera(pattern_camera())
        sink.set_target_size(320, 320)
        sink.attach(media.self_view)
        await eventually(lambda: len(images) >= 3)
        image = images[-1]
        assert (image.width, image.height) == (320, 240)
        assert (image.source_width, image.source_height) == (640, 480)
        assert len(image.data) >= image.stride * image.height
        sink.set_target_size(160, 1000)
        await eventually(lambda: images[-1].width == 160)
        assert images[-1].height == 120
        assert sink.first_frame_at is not None and sink.frames_shown >= 4
    finally:
        sink.close()
        media.close()


@pytest.mark.asyncio
async def test_pcm_pump_gives_interleaved_s16_stereo() -> None:
    media = LocalMedia()
    chunks: list[bytes] = []
    pump = PcmPump(chunks.append)
    try:
        await media.use_microphone(tone_microphone())
        pump.attach(media.outgoing_audio)
        await eventually(lambda: len(chunks) >= 5)
        samples = array.array("h")
        samples.frombytes(b"".join(chunks))
        assert len(samples) % PCM_CHANNELS == 0
        assert max(abs(s) for s in samples) > 1000
        media.set_muted(True)
        # Chunks made before the mute may still come: wait for the first silent one.
        await eventually(lambda: max(map(abs, array.array("h", chunks[-1])), default=1) == 0,
                         what="a silent chunk")
        count = len(chunks)
        await eventually(lambda: len(chunks) >= count + 5)
        silent = array.array("h")
        silent.frombytes(b"".join(chunks[-3:]))
        assert max(abs(s) for s in silent) == 0
    finally:
        pump.detach()
        media.close()
