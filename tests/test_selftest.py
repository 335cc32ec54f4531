"""`clinic-desk --self-test`: the real command passes here, and a failing step is named."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import aioice.ice
import pytest

from app.main import main
from app.media.ice_config import candidate_addresses
from app.selftest import call_step, camera_step, imports_step, store_step, window_step
from app.selftest.report import StepFailed, failure_line
from app.selftest.runner import run_self_test
from app.selftest.sdp_codecs import negotiated_codec
from app.store.errors import SchemaTooNew

CLINIC_DESK = Path(sys.executable).parent / "clinic-desk"
OK_LINE = re.compile(
    r"^clinic-desk self-test: ok \(imports \d+ modules [\d.]+s, window \d+ rows \(offscreen\) "
    r"[\d.]+s, camera \d+ frames [\d.]+s, call vp8 \d+ frames/audio \d+ frames [\d.]+s, "
    r"store v\d+ [\d.]+s; total [\d.]+s\)$",
    re.MULTILINE,
)

SAMPLE_SDP = "\r\n".join([
    "v=0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 96 0",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
    "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host",
    "m=video 9 UDP/TLS/RTP/SAVPF 97 99",
    "a=rtpmap:99 H264/90000",
    "a=rtpmap:97 VP8/90000",
    "a=candidate:2 1 udp 2130706431 192.0.2.7 50002 typ host",
])


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user who never ran Clinic Desk, with its own temp folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CLINIC_DESK"))}
    home = tmp_path / "home"
    for sub in ("config", "data", "state", "cache", "tmp"):
        (home / sub).mkdir(parents=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        TMPDIR=str(home / "tmp"),
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def test_self_test_command_passes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    result = subprocess.run(
        [str(CLINIC_DESK), "--self-test"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert OK_LINE.search(result.stdout), result.stdout
    assert len(result.stdout.strip().splitlines()) == 1
    # Scratch files removed; nothing written to the user's folders (a font cache may be).
    cache = tmp_path / "home" / "cache"
    leftovers = [
        p for p in (tmp_path / "home").rglob("*") if p.is_file() and cache not in p.parents
    ]
    assert leftovers == []
    assert list((tmp_path / "home" / "tmp").iterdir()) == []


def test_a_failing_step_is_named_and_later_steps_do_not_run(
    qapp: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    def no_frames(scratch: Path) -> str:
        raise StepFailed("fewer than 15 frames within 10s")

    def later(scratch: Path) -> str:
        ran.append("later")
        return ""

    monkeypatch.setattr(camera_step, "run", no_frames)
    monkeypatch.setattr(call_step, "run", later)
    monkeypatch.setattr(store_step, "run", later)
    assert main(["--self-test"]) == 1
    out = capsys.readouterr().out
    assert out == "clinic-desk self-test: FAILED at camera: fewer than 15 frames within 10s\n"
    assert ran == []


def test_an_unexpected_error_is_reported_with_its_type(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(scratch: Path) -> str:
        raise ImportError("libvpx.so.7: cannot open shared object file")

    def must_not_run(scratch: Path) -> str:
        raise AssertionError("ran after a failed step")

    monkeypatch.setattr(imports_step, "run", broken)
    monkeypatch.setattr(window_step, "run", must_not_run)
    out = io.StringIO()
    assert run_self_test(out) == 1
    assert out.getvalue() == (
        "clinic-desk self-test: FAILED at imports: "
        "ImportError: libvpx.so.7: cannot open shared object file\n"
    )
    assert "Traceback" in capsys.readouterr().err


def test_a_missing_step_module_fails_that_step() -> None:
    out = io.StringIO()
    steps = (("store", "app.selftest.store_step"), ("camera", "app.selftest.no_such_step"))
    assert run_self_test(out, steps) == 1
    assert out.getvalue().startswith("clinic-desk self-test: FAILED at camera: ModuleNotFound")


def test_failure_line_is_one_line() -> None:
    assert failure_line("call", "ICE\nfailed  twice") == (
        "clinic-desk self-test: FAILED at call: ICE failed twice"
    )


def test_candidates_outside_loopback_are_refused() -> None:
    assert candidate_addresses(SAMPLE_SDP) == ["127.0.0.1", "192.0.2.7"]
    with pytest.raises(StepFailed, match="non-loopback ICE candidates: 192.0.2.7"):
        call_step.check_loopback_only(SAMPLE_SDP, "caller")
    with pytest.raises(StepFailed, match="no ICE candidates"):
        call_step.check_loopback_only("v=0\r\nm=video 9 RTP 96\r\n", "callee")


def test_negotiated_codec_is_the_first_payload_of_the_section() -> None:
    assert negotiated_codec(SAMPLE_SDP, "audio") == "opus"
    assert negotiated_codec(SAMPLE_SDP, "video") == "VP8"
    assert negotiated_codec("v=0\r\n", "video") is None


def test_store_step_refuses_a_store_from_a_newer_version(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "store" / "selftest.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 999")
    connection.close()
    with pytest.raises(SchemaTooNew, match="newer Clinic Desk"):
        store_step.run(tmp_path)


def test_camera_step_checks_the_frame_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(camera_step, "CAMERA_WIDTH", 320)
    with pytest.raises(StepFailed, match="frame 0 is 640x480, expected 320x480"):
        camera_step.run(tmp_path)


def test_call_step_gives_up_at_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(call_step, "TIMEOUT", 0.05)
    before = aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
    with pytest.raises(StepFailed, match=r"no 10 video and 25 audio frames .* within 0s"):
        call_step.run(tmp_path)
    # The loopback limit is lifted again: ICE gathers on what it did before.
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == before
