"""The phone call window on a real telephone line: the schedule's call dispatch rings baresip
through the desktop's API client, the server, Janus's SIP plugin and Kamailio; the window shows
Dialling → Ringing → Connected with its timer, the keypad's digits reach the phone, a tone goes
each way, and busy, far-end hang-up and a number that cannot be dialled are said in words."""

from __future__ import annotations

import array
import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine
from sqlmodel import Session

from app.media.audio_output import PCM_CHANNELS, PCM_RATE
from app.media.capture import CaptureProfile
from app.media.ice_config import IcePolicy
from app.services.call_service import CallConfig, CallService
from app.services.message_bridge import MessageBridge
from app.services.phone_call_service import PhoneCallService
from app.sync.api_client import ApiClient
from app.sync.token_store import MemoryTokenStore
from app.ui.call.call_controller import CallController
from app.ui.phone_call.phone_call_controller import PhoneCallController
from app.ui.phone_call.phone_call_window import PhoneCallWindow
from app.ui.schedule.actions_menu import ActionKey, action_states
from server.app import create_app
from server.models.appointment import Appointment as AppointmentRow
from server.models.patient import Patient as PatientRow
from server.models.user import User
from server.services.accounts import start_session
from server.settings import Settings
from shared.clock import FixedClock
from shared.enums import AppointmentKind, AppointmentStatus, Role
from shared.records import Appointment, Patient, StaffMember
from tests.accessibility import unnamed_controls
from tests.janus_server import JanusServer
from tests.media_peers import quick_options
from tests.netns import VETH_ADDRESS
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import janus_settings
from tests.server.group_calls.peers import tone_power
from tests.server.phone_calls.conftest import book_phone, status_of
from tests.sip.phone import PHONE_TONE, Phone, wav_samples
from tests.sync.qt_loop import QtLoop, qt_loop

#: Something of these tests (not a Python-visible QObject: none is left after each test) dies
#: later on another thread: "QObject::~QObject: Timers cannot be stopped from another thread"
#: failed the next test of the same pytest process, and one whole run crashed (as with
#: tests/server/group_calls/test_window.py). Until it is found, this module runs in a pytest
#: process of its own, started by test_window_process.py (or by hand with
#: CLINIC_DESK_PHONE_WINDOW=1).
OWN_PROCESS = "CLINIC_DESK_PHONE_WINDOW"
pytestmark = pytest.mark.skipif(
    os.environ.get(OWN_PROCESS) != "1",
    reason="runs in a process of its own (tests/server/phone_calls/test_window_process.py)",
)

DESK_TONE = 440  # the test microphone's tone (app/media/devices.py tone_microphone)
DEADLINE = 20.0


class TestClientTransport(httpx.AsyncBaseTransport):
    """The desktop's httpx requests carried to the test's in-process server (in a thread: the
    TestClient is synchronous, and the events request waits on the server)."""

    __test__ = False

    def __init__(self, client: TestClient) -> None:
        self.client = client
        #: Every request's method and path, in order.
        self.sent: list[str] = []
        # Plain threads, not the qasync loop's QThread executor (asyncio.to_thread): its Qt
        # objects outlived the loop and died on another thread in a later test.
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="desk-http")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        self.sent.append(f"{request.method} {request.url.path}")

        def send() -> httpx.Response:
            answer = self.client.request(
                request.method, str(request.url.copy_with(scheme="http", host="testserver")),
                content=content, headers=dict(request.headers),
            )
            return httpx.Response(answer.status_code, headers=answer.headers,
                                  content=answer.content)

        return await asyncio.get_running_loop().run_in_executor(self.pool, send)


@dataclass
class Desk:
    """The desktop's side: the services and controllers the app builds, over its API client."""

    api: ApiClient
    transport: TestClientTransport
    calls: CallService
    service: PhoneCallService
    bridge: MessageBridge
    controller: PhoneCallController
    dispatch: CallController
    warnings: list[str] = field(default_factory=list)
    heard: array.array[int] = field(default_factory=lambda: array.array("h"))

    def hear(self, pcm: bytes) -> None:
        samples = array.array("h")
        samples.frombytes(pcm)
        self.heard.extend(samples[::PCM_CHANNELS])
        del self.heard[: -PCM_RATE // 5]

    def hears(self, tone: int) -> bool:
        return len(self.heard) > 1000 and tone_power(self.heard, PCM_RATE, tone) > 0.3

    @property
    def window(self) -> PhoneCallWindow:
        assert self.controller.call_window is not None
        return self.controller.call_window


@pytest.fixture
def loop(qapp: QApplication, inside: None) -> Iterator[QtLoop]:
    # The call window is the only window here: closing it must not stop the loop (in the app,
    # the schedule stays open).
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    with qt_loop(qapp) as loop:
        yield loop
    qapp.setQuitOnLastWindowClosed(quits)


@contextmanager
def desktop(
    loop: QtLoop, client: TestClient, folder: Path, engine: Engine, settings: Settings,
    clinic: Clinic, clock: FixedClock, user: str = "ng",
) -> Iterator[Desk]:
    """A desktop signed in as `user`: the services and controllers the app builds for calls."""
    desktop_settings = QSettings(str(folder / f"{user}.ini"), QSettings.Format.IniFormat)
    options = quick_options(ice=IcePolicy(interfaces=(VETH_ADDRESS,)))
    # No microphone on a test machine: the test tone stands in (440 Hz).
    config = CallConfig(options=options, profile=CaptureProfile(320, 240, 15),
                        allow_test_sources=True)
    calls = CallService(config, desktop_settings)
    service = PhoneCallService(calls)
    bridge = MessageBridge()
    transport = TestClientTransport(client)
    # Signed in: the refresh token in the keychain, the access token fetched with it.
    tokens = MemoryTokenStore()
    with Session(engine) as session:
        account = session.get(User, clinic.ids[user])
        assert account is not None
        tokens.save("http://testserver", user,
                    start_session(session, settings, account, clock.now()).refresh_token)
        session.commit()
    api = ApiClient("http://testserver", user, tokens, transport=transport)
    controller = PhoneCallController(service, sync=_Sync(api), bridge=bridge)
    # The schedule's one call dispatch (the row's menu, Enter, the toolbar's Call).
    dispatch = CallController(calls, _Sync(api), None, bridge)  # type: ignore[arg-type]
    dispatch.phone = controller
    desk = Desk(api, transport, calls, service, bridge, controller, dispatch)
    bridge.warning.connect(desk.warnings.append)
    bridge.info.connect(desk.warnings.append)
    service.tap = desk.hear
    try:
        yield desk
    finally:
        if service.in_call:
            loop.run(service.hang_up(), 10)
        with contextlib.suppress(Exception):
            loop.run(asyncio.sleep(0.3))
        if controller.call_window is not None:
            controller.call_window.close()
        service.close()
        # Not calls.close(): it is for the app's exit, and its memory trim 2 s later (a
        # single-shot QTimer) would outlive this loop and die on another thread. No 1:1 call
        # was made; the phone call's microphone was the PhoneCallService's to close.
        loop.run(api.close())
        transport.pool.shutdown(wait=True)
        # Freed here, on the GUI thread: left to Python's collector, their timers would die on
        # whichever thread collects next (a warning that fails a later test).
        for item in (dispatch, controller, service, calls, bridge):
            item.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def desk(
    loop: QtLoop, client: TestClient, tmp_path: Path, engine: Engine,
    settings: Settings, clinic: Clinic, clock: FixedClock,
) -> Iterator[Desk]:
    with desktop(loop, client, tmp_path, engine, settings, clinic, clock) as desk:
        yield desk


@dataclass
class _Sync:
    api: ApiClient


def record(engine: Engine, appointment_id: UUID, clinic: Clinic) -> Appointment:
    """The appointment as the desktop's schedule holds it (what its row hands the dispatch)."""
    with Session(engine) as session:
        row = session.get(AppointmentRow, appointment_id)
        assert row is not None
        patient = session.get(PatientRow, row.patient_id)
        assert patient is not None
        return Appointment(
            id=row.id, patient=Patient(patient.id, patient.name, phone=patient.phone or ""),
            clinician=StaffMember(clinic.ids["ng"], "Dr Ng", Role.CLINICIAN),
            start=row.start.replace(tzinfo=UTC), duration_minutes=row.duration_minutes,
            kind=AppointmentKind.PHONE, status=AppointmentStatus(row.status),
        )


async def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"waited for {what}"
        await asyncio.sleep(0.05)


def test_the_row_rings_the_phone_and_the_window_follows_the_call(
    qtbot: Any, loop: QtLoop, desk: Desk, phone: Phone, engine: Engine,
    clinic: Clinic, screenshot_dir: Path | None,
) -> None:
    appointment = record(engine, book_phone(engine, clinic), clinic)
    menu = {s.key: s for s in action_states(appointment, datetime.now(UTC), server=True)}
    assert (menu[ActionKey.PHONE_CALL].text, menu[ActionKey.PHONE_CALL].enabled) == (
        "Call patient's &phone", True)
    phone.command("answermode", "manual")

    async def scenario() -> None:
        assert desk.dispatch.start(appointment) is None  # the phone controller took it
        window = desk.window
        assert window.state_label.text() == "Dialling…"
        await wait_until(lambda: window.state_label.text() == "Ringing…", "Ringing in the window")
        assert window.number_label.text() == "+44 20 7946 0961"
        assert not window.keypad.isEnabled() and not window.hold_button.isEnabled()
        assert unnamed_controls(window) == []
        if screenshot_dir is not None:
            window.grab().save(str(screenshot_dir / "phone-call-ringing.png"))
        await wait_until(lambda: "CALL_INCOMING" in phone.event_types(), "the phone to ring")
        phone.command("accept")
        await wait_until(lambda: window.state_label.text() == "Connected", "Connected")
        await wait_until(lambda: window.timer_label.text().startswith("0:0"), "the timer")
        await wait_until(lambda: desk.hears(PHONE_TONE), "the phone's tone at the desktop")
        await wait_until(lambda: status_of(engine, appointment.id) == "taken", "taken")
        # The keyboard's digits and a clicked key go to the phone as DTMF.
        QTest.keyClicks(window, "1#")
        await asyncio.sleep(0.3)
        window.keypad.buttons["5"].click()
        await wait_until(lambda: phone.dtmf() == "1#5", f"the keys at the phone {phone.dtmf()}")
        window.hold_button.click()
        await wait_until(lambda: window.state_label.text() == "On hold", "on hold")
        assert window.hold_button.text() == "Resume" and not window.keypad.isEnabled()
        window.hold_button.click()
        await wait_until(lambda: window.state_label.text() == "Connected", "resumed")
        window.mute_button.click()
        assert desk.service.muted and window.mute_button.text() == "Unmute"
        window.mute_button.click()
        assert not desk.service.muted
        assert unnamed_controls(window) == []
        if screenshot_dir is not None:
            window.grab().save(str(screenshot_dir / "phone-call-connected.png"))
        QTest.keyClick(window, Qt.Key.Key_H,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        await wait_until(lambda: window.hang_up_button.text() == "Close", "the call to end")
        assert window.state_label.text() == "You hung up"
        assert window.detail_label.text().startswith("Call ended after 0:")
        await wait_until(lambda: phone.saw("session closed"), "the phone to hang up")
        wav = phone.heard_wav()
        assert wav is not None
        samples, rate = wav_samples(wav)
        heard = array.array("h", samples[-rate:])
        assert tone_power(heard, rate, DESK_TONE) > 0.3, "the phone did not hear the desktop"

    loop.run(scenario(), 90)


def test_a_busy_line_and_a_patient_who_hangs_up_are_said_in_words(
    qtbot: Any, loop: QtLoop, desk: Desk, phone: Phone, engine: Engine,
    clinic: Clinic, screenshot_dir: Path | None,
) -> None:
    appointment = record(engine, book_phone(engine, clinic), clinic)
    phone.command("answermode", "manual")

    async def scenario() -> None:
        desk.dispatch.start(appointment)
        window = desk.window
        await wait_until(lambda: "CALL_INCOMING" in phone.event_types(), "the phone to ring")
        await wait_until(lambda: window.state_label.text() == "Ringing…", "Ringing")
        phone.command("hangup")  # the patient rejects it: 486
        await wait_until(lambda: window.state_label.text() == "Busy", "Busy in the window")
        assert window.detail_label.text() == "Busy: the patient's line is engaged."
        if screenshot_dir is not None:
            window.grab().save(str(screenshot_dir / "phone-call-busy.png"))
        assert status_of(engine, appointment.id) == "scheduled"
        window.hang_up_button.click()  # now Close
        await wait_until(lambda: desk.controller.call_window is None, "the window closed")
        # Again: the patient answers, then hangs up; the window ends at once and says so.
        phone.command("answermode", "auto")
        desk.dispatch.start(appointment)
        window = desk.window
        await wait_until(lambda: window.state_label.text() == "Connected", "Connected")
        phone.command("hangup")
        await wait_until(lambda: window.state_label.text() == "The patient hung up", "far end")
        assert window.detail_label.text().startswith("Call ended after 0:")
        assert not desk.service.in_call and not window.keypad.isEnabled()

    loop.run(scenario(), 90)


@pytest.mark.parametrize(("number", "why"), [
    ("", "the patient has no phone number. Add one in the patient's details and call again."),
    ("not a number", "“not a number” is not a phone number. Correct the number in the "
                     "patient's details and call again."),
    ("+44 12", "“+44 12” has too few or too many digits for a phone number. Correct the number "
               "in the patient's details and call again."),
])
def test_a_number_that_cannot_be_dialled_is_refused_before_anything_is_sent(
    loop: QtLoop, desk: Desk, phone: Phone, engine: Engine, clinic: Clinic,
    number: str, why: str,
) -> None:
    appointment = record(engine, book_phone(engine, clinic, number=number), clinic)
    sent = list(desk.transport.sent)
    assert desk.controller.start(appointment) is None
    assert desk.controller.call_window is None
    assert desk.transport.sent == sent  # not a request, let alone an INVITE
    assert "CALL_INCOMING" not in phone.event_types()
    assert desk.warnings == [f"{appointment.patient.name}'s phone was not called: {why}"]


def test_a_second_clinician_is_told_who_is_calling_and_nothing_changes(
    loop: QtLoop, desk: Desk, client: TestClient, phone: Phone, tmp_path: Path,
    engine: Engine, settings: Settings, clinic: Clinic, clock: FixedClock,
) -> None:
    appointment = record(engine, book_phone(engine, clinic, owner="okafor"), clinic)
    phone.command("answermode", "manual")
    with desktop(loop, client, tmp_path, engine, settings, clinic, clock, "okafor") as okafor:

        async def scenario() -> None:
            okafor.dispatch.start(appointment)
            await wait_until(lambda: okafor.window.state_label.text() == "Ringing…", "ringing")
            desk.dispatch.start(appointment)
            window = desk.window
            await wait_until(lambda: window.state_label.text() == "Not called", "refused")
            assert window.detail_label.text() == "Okafor is already calling this patient."
            assert desk.warnings == ["Okafor is already calling this patient."]
            assert window.hang_up_button.text() == "Close" and not window.keypad.isEnabled()
            assert not desk.service.in_call and desk.service.media is None
            assert okafor.window.state_label.text() == "Ringing…"  # their call goes on
            okafor.window.hang_up_button.click()
            await wait_until(lambda: okafor.window.state_label.text() == "Cancelled", "ended")
            assert status_of(engine, appointment.id) == "scheduled"

        loop.run(scenario(), 90)


def test_janus_not_answering_is_said_in_the_window_and_changes_nothing(
    loop: QtLoop, janus_gone_client: TestClient, tmp_path: Path, engine: Engine,
    settings: Settings, clinic: Clinic, clock: FixedClock,
) -> None:
    appointment = record(engine, book_phone(engine, clinic), clinic)
    with desktop(loop, janus_gone_client, tmp_path, engine, settings, clinic, clock) as desk:

        async def scenario() -> None:
            desk.dispatch.start(appointment)
            window = desk.window
            await wait_until(lambda: window.hang_up_button.text() == "Close", "the call over")
            assert window.state_label.text() == "Failed"
            assert window.detail_label.text() == "The phone service (Janus) is not answering."
            assert not desk.service.in_call
            assert status_of(engine, appointment.id) == "scheduled"

        loop.run(scenario(), 90)


@pytest.fixture
def no_line_client(
    inside: None, settings: Settings, engine: Engine, clock: FixedClock, janus: JanusServer
) -> Iterator[TestClient]:
    """A server with no phone line set up (the demo's, or one without a trunk)."""
    with TestClient(create_app(janus_settings(settings, janus), engine, clock)) as client:
        yield client


def test_a_server_without_a_phone_line_calls_the_patient_in_their_browser(
    loop: QtLoop, no_line_client: TestClient, tmp_path: Path, engine: Engine,
    settings: Settings, clinic: Clinic, clock: FixedClock,
) -> None:
    appointment = record(engine, book_phone(engine, clinic), clinic)
    with desktop(loop, no_line_client, tmp_path, engine, settings, clinic, clock) as desk:
        in_browser: list[Appointment] = []
        desk.controller.in_browser = in_browser.append

        async def scenario() -> None:
            desk.dispatch.start(appointment)
            await wait_until(lambda: in_browser, "the browser's call instead")
            assert in_browser == [appointment]
            assert desk.warnings == [
                "Dialling out is not set up on this server (no phone line). Ask your IT team. "
                "Calling the patient in their browser instead (audio only, through the "
                "invite's link)."]
            assert not desk.service.in_call and desk.service.media is None
            await wait_until(lambda: desk.controller.call_window is None, "the window closed")
            assert not desk.controller.dials_out  # the next call goes to the browser at once
            assert status_of(engine, appointment.id) == "scheduled"

        loop.run(scenario(), 60)
