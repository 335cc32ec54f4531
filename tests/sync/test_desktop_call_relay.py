"""A call from the schedule when the server requires the relay: the server mints the call's
TURN credentials, the desktop's media go through a real coturn, and the call window says so."""

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from pytestqt.qtbot import QtBot

from app.media.call_path import CandidateKind
from app.media.call_state import CallState
from app.media.ice_config import IceServer
from app.media.relay_probe import RelayTransport
from app.services.call_service import CallConfig
from app.ui.call.call_controller import CallController
from tests.media_peers import quick_options
from tests.server.server_process import LiveServer
from tests.sync.desk import Desk
from tests.sync.live_server import LiveClinic
from tests.sync.patient_peer import PatientSocketSignalling, patient_in_waiting_room
from tests.sync.qt_loop import QtLoop
from tests.sync.test_desktop_call import book_on_screen, patient_link, qloop  # noqa: F401
from tests.sync.test_desktop_sync import close_window, open_window, rows, shoot
from tests.turn_server import SECRET, TurnServer, turn_server


@pytest.fixture
def turn() -> Iterator[TurnServer]:
    with turn_server() as server:
        yield server


@pytest.fixture
def relay_server(clinic_db: tuple[str, LiveClinic], turn: TurnServer) -> Iterator[LiveServer]:
    """The clinic's server with coturn's URLs and shared secret, requiring relayed media."""
    server = LiveServer(clinic_db[0], env={
        "CLINIC_DESK_TURN_URLS": json.dumps(turn.urls()),
        "CLINIC_DESK_TURN_SECRET": SECRET,
        "CLINIC_DESK_ICE_RELAY_ONLY": "true",
    })
    server.start()
    yield server
    server.close()


def test_the_server_requires_the_relay_and_the_call_window_shows_it(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, relay_server: LiveServer,  # noqa: F811
    clinic: LiveClinic, turn: TurnServer, screenshot_dir: Path | None,
) -> None:
    window = open_window(tmp_path, qloop, relay_server.url, "ng")
    clerk = Desk(tmp_path / "clerk.sqlite3", relay_server.url, "clerk")
    patient = None
    assert window.calls is not None and window.contact is not None
    # Loopback only, and nothing relay-only on this machine: the server's rule decides.
    window.calls.config = CallConfig(options=quick_options(), allow_test_sources=True)
    try:
        booked = book_on_screen(qloop, window, clerk, clinic.ids["ng"], "Ada Lovelace")
        link = patient_link(qloop, window, booked)
        patient = qloop.run(patient_in_waiting_room(relay_server.url, link))

        controller = window.window.calls
        assert isinstance(controller, CallController)
        qloop.wait_until(lambda: window.waiting_room.arrived_at(booked.id) is not None)
        controller.start(rows(window)[booked.id])
        qloop.wait_until(lambda: window.calls is not None
                         and window.calls.state is CallState.CONNECTED, timeout=15)
        qloop.wait_until(lambda: window.calls is not None and window.calls.frames_shown > 5
                         and patient is not None
                         and patient.listener.received.loud_audio_frames > 0, timeout=15)

        session = window.calls.session
        assert session is not None and session.options.ice.relay_only
        assert session.relay is not None and session.relay.transport is RelayTransport.UDP
        for sdp in session.local_sdps:
            candidates = [line for line in sdp.splitlines() if line.startswith("a=candidate")]
            assert candidates and all(" typ relay" in line for line in candidates)
        # The patient got this call's credentials and the rule, never coturn's secret.
        signalling = patient.signalling
        assert isinstance(signalling, PatientSocketSignalling)
        offer = next(m["payload"] for m in signalling.messages
                     if m["type"] == "signal" and m["kind"] == "offer")
        assert offer["ice_transport_policy"] == "relay"
        minted = offer["ice_servers"][0]
        assert minted["urls"] == turn.urls()
        expiry, call_id = minted["username"].split(":")
        assert call_id == str(booked.id)
        assert int(expiry) > (booked.start + timedelta(minutes=booked.duration_minutes)).timestamp()
        assert SECRET not in json.dumps(signalling.messages)

        call_window = controller.call_window
        assert call_window is not None
        qloop.wait_until(lambda: "relay UDP" in call_window.quality.text())
        quality = window.calls.quality
        assert quality is not None and quality.path is not None
        assert quality.path.local is CandidateKind.RELAY
        assert "path relay UDP" in call_window.quality.toolTip()
        shoot(call_window, screenshot_dir, "call-through-relay.png")

        # A reconnection asks the server again for the call's credentials (they may have
        # expired by now) and still goes through the relay.
        asked: list[UUID] = []
        call_ice = controller.sync.api.call_ice

        async def counting_call_ice(appointment_id: UUID) -> tuple[list[IceServer], bool]:
            asked.append(appointment_id)
            return await call_ice(appointment_id)

        controller.sync.api.call_ice = counting_call_ice  # type: ignore[method-assign]
        qloop.run(session.restart_ice())
        qloop.wait_until(lambda: session.generation >= 2 and session.renewals >= 1
                         and session.state is CallState.CONNECTED, timeout=15)
        assert asked and set(asked) == {booked.id}
        assert session.relay is not None and session.options.ice.relay_only
        frames = window.calls.frames_shown
        qloop.wait_until(lambda: window.calls is not None
                         and window.calls.frames_shown > frames + 5, timeout=15)
        call_window.hang_up_button.click()
        qloop.wait_until(lambda: patient is not None
                         and patient.session.state is CallState.ENDED, timeout=10)
    finally:
        if patient is not None:
            qloop.run(patient.close())
        qloop.run(clerk.close())
        close_window(qloop, window)
