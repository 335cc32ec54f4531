"""The group call window on a real Janus: the desktop (GroupCallService over the CallService's
devices) with ten aiortc guests (a full page of tiles, paging, the active speaker first), and
with two Chromium participants it admits from the waiting room and chats with."""

import asyncio
import contextlib
import gc
import threading
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import qasync
import shiboken6
from fastapi.testclient import TestClient
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine

from app.media.capture import CaptureProfile
from app.media.ice_config import IcePolicy
from app.services.call_service import CallConfig, CallService
from app.services.group_call_service import GroupCallService
from app.services.message_bridge import MessageBridge
from app.services.schedule_service import ScheduleService
from app.services.sync_service import SyncService
from app.sync.api_client import ApiClient
from app.sync.token_store import MemoryTokenStore
from app.ui.group_call.group_call_controller import GroupCallController
from app.ui.group_call.group_call_window import GroupCallWindow
from shared.enums import AppointmentKind, AppointmentStatus, Role
from shared.records import Appointment, Patient, StaffMember
from tests.media_peers import quick_options
from tests.netns import VETH_ADDRESS
from tests.server.call_helpers import page_eventually, patient_browser
from tests.server.conftest import PASSWORD, Clinic
from tests.server.group_calls.conftest import book_group, guest_join, guest_link, staff_join
from tests.server.group_calls.peers import Participant, wait_until
from tests.server.group_calls.test_browser import connected, waiting_from_link

GUESTS = 10
#: The one guest who talks (a tone); on the first page, but not first until they talk.
TALKER = 7


@pytest.fixture
def loop(qapp: QApplication, inside: None) -> Iterator[qasync.QEventLoop]:
    # Threads an earlier test left (a subprocess watcher of another loop) are not this call's.
    before = {thread.name for thread in threading.enumerate()}
    event_loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    # Nothing of this call may outlive its loop: a peer connection left open keeps its tasks,
    # its sockets' notifiers and its frame sink's thread, which then run into the closed loop
    # in a later test (a segfault in pytest-qt's event processing, once).
    try:
        with contextlib.suppress(AssertionError):  # said below, with what is left
            event_loop.run_until_complete(
                wait_until(lambda: not left_over(event_loop, before), "nothing left over")
            )
    finally:
        leftovers = left_over(event_loop, before)
        pending = [task for task in asyncio.all_tasks(event_loop) if not task.done()]
        for task in pending:
            task.cancel()
        event_loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        event_loop.close()
        asyncio.set_event_loop(None)
        # The loop's timer object still holds Qt timers (of callbacks cancelled, not fired):
        # freed by Python's collector on another thread (a later test's server thread) it
        # warned "Timers cannot be stopped from another thread" and left its timers to fire
        # on freed memory in the next event processing (the old segfault). Freed here, on the
        # GUI thread, with the rest of the call's Qt objects.
        shiboken6.delete(event_loop._timer)
        gc.collect()
    assert not leftovers, f"the call left {leftovers} behind"


def left_over(event_loop: qasync.QEventLoop, before: set[str] | None = None) -> list[str]:
    """Tasks still running, sockets still watched and media threads still alive (not counting
    the threads named in `before`)."""
    tasks = [repr(task.get_coro()) for task in asyncio.all_tasks(event_loop) if not task.done()]
    own = event_loop._ssock.fileno()  # the loop's own wake-up pipe
    fds = (*event_loop._read_notifiers, *event_loop._write_notifiers)
    watched = [f"socket {fd}" for fd in fds if fd != own]
    # Frame sinks' converters, and the watchers of subprocesses (Playwright's driver) whose
    # exit is still to be told to this loop.
    threads = [
        thread.name
        for thread in threading.enumerate()
        if thread.name.startswith(("frames-", "asyncio-waitpid-"))
        and thread.name not in (before or set())
    ]
    return tasks + watched + threads


@pytest.fixture
def service(loop: qasync.QEventLoop, tmp_path: Path) -> Iterator[GroupCallService]:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    options = quick_options(ice=IcePolicy(interfaces=(VETH_ADDRESS,)))
    # No camera or microphone on a test machine: the test pattern and tone stand in.
    profile = CaptureProfile(320, 240, 15)
    config = CallConfig(options=options, profile=profile, allow_test_sources=True)
    calls = CallService(config, settings)
    group = GroupCallService(calls)
    yield group
    if group.in_call:
        loop.run_until_complete(asyncio.wait_for(group.leave(), 10))
    group.close()
    calls.close()
    group.deleteLater()
    calls.deleteLater()


def run(loop: qasync.QEventLoop, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop.run_until_complete(asyncio.wait_for(scenario(), 90))


def test_a_full_page_of_tiles_paging_and_the_active_speaker(
    qtbot: Any,
    loop: qasync.QEventLoop,
    service: GroupCallService,
    client: TestClient,
    clinic: Clinic,
    engine: Engine,
    screenshot_dir: Path | None,
) -> None:
    appointment = book_group(engine, clinic, guests=GUESTS)
    credential = staff_join(client, clinic, "ng", appointment)
    joins = [guest_join(client, guest_link(engine, appointment, n)) for n in range(1, GUESTS + 1)]
    window = GroupCallWindow(service, "Diabetes education group")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    guests: list[Participant] = []

    def visible_ids() -> list[str | None]:
        return [tile.participant_id for tile in window.tiles if tile.isVisible()]

    async def scenario() -> None:
        guests.extend(
            Participant(
                join,
                tone=660 if join.id == f"guest-{TALKER}" else None,
                camera=True,
                size="160x120",
            )
            for join in joins
        )
        try:
            await service.join(credential)
            for guest in guests:
                await guest.session.start()
            await wait_until(lambda: len(window.participants) == GUESTS + 1, "everyone")
            await wait_until(lambda: all(p.video for p in window.participants), "all videos")
            # A full page: nine tiles, each with its own picture, subscribed to only those.
            await wait_until(lambda: len(visible_ids()) == 9, "nine tiles")
            await wait_until(
                lambda: (
                    sum(1 for n in service.tiles_shown.values() if n > 0) == 9
                    and set(service.tiles_shown) == set(visible_ids())
                ),
                "a picture in every tile",
            )
            assert window.page_label.text() == "Page 1 of 2"
            # The talker is heard (AudioBridge's talking event): first, and lit up.
            await wait_until(lambda: window.tiles[0].participant_id == f"guest-{TALKER}", "speaker")
            assert window.tiles[0].speaking
            assert not any(tile.speaking for tile in window.tiles[1:])
            assert "speaking" in window.participant_list.item(TALKER).text()
            await asyncio.sleep(0.5)  # a few more frames in each tile for the picture
            if screenshot_dir is not None:
                window.grab().save(str(screenshot_dir / "group-call-full-page.png"))
            first_page = visible_ids()
            QTest.keyClick(window, Qt.Key.Key_PageDown)
            assert window.page_label.text() == "Page 2 of 2"
            assert len(visible_ids()) == GUESTS - 9
            assert not set(visible_ids()) & set(first_page)
            await wait_until(
                lambda: set(service.tiles_shown) == set(visible_ids()),
                "only the second page's tiles subscribed",
            )
            QTest.keyClick(window, Qt.Key.Key_PageUp)
            assert visible_ids() == first_page
            # Muting from the window shows in the room's list.
            window.mute_button.click()
            await wait_until(lambda: "mic off" in window.participant_list.item(0).text(), "mute")
        finally:
            await service.leave()
            service.close()
            for guest in guests:
                await guest.close()
            await asyncio.sleep(0.3)  # the closed tiles' and players' tasks wind down

    run(loop, scenario)


def test_the_clinician_admits_browsers_and_chats_with_them(
    qapp: QApplication,
    loop: qasync.QEventLoop,
    service: GroupCallService,
    base: str,
    clinic: Clinic,
    engine: Engine,
    screenshot_dir: Path | None,
) -> None:
    """The desktop's window and controller (through the server's API) with two Chromium
    participants: both wait and are listed, Admit lets one in and Admit all the other, each
    page joins by itself, and the chat goes both ways."""
    appointment = book_group(engine, clinic, guests=2)
    api = ApiClient(base, "ng", MemoryTokenStore())
    bridge = MessageBridge()
    # Taken already: the controller has no schedule to mark it in.
    controller = GroupCallController(
        service, cast(SyncService, SimpleNamespace(api=api)), cast(ScheduleService, None), bridge
    )
    booked = Appointment(
        id=appointment,
        patient=Patient(id=clinic.ids["patient"], name="Diabetes education group"),
        clinician=StaffMember(id=clinic.ids["ng"], name="Ng", role=Role.CLINICIAN),
        start=datetime.now(UTC),
        duration_minutes=60,
        kind=AppointmentKind.GROUP,
        status=AppointmentStatus.TAKEN,
    )
    links = {n: f"{base}/join#{guest_link(engine, appointment, n)}" for n in (1, 2)}

    # The window closes inside the loop: the application must not quit with it (and stop it).
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)

    async def scenario() -> None:
        await api.login(PASSWORD)
        window = controller.start(booked)
        assert window is not None  # deletes itself on close
        waiting = window.waiting_list
        try:
            await wait_until(lambda: service.in_call and service.chat is not None, "joined")
            async with patient_browser() as browser:
                pages = {n: await waiting_from_link(browser, url) for n, url in links.items()}
                await wait_until(lambda: len(waiting.waiting) == 2, "both in the waiting list")
                assert waiting.title.text() == "Waiting to be admitted (2)"
                assert waiting.admit_all_button.text() == "Admit all (2 waiting)"
                assert [w.display for w in waiting.waiting] == ["Guest 1", "Guest 2"]
                if screenshot_dir is not None:
                    window.grab().save(str(screenshot_dir / "group-call-waiting-list.png"))
                waiting.admit_buttons["guest-1"].click()
                await connected(pages[1])
                await wait_until(lambda: [w.participant for w in waiting.waiting] == ["guest-2"],
                                 "guest 1 off the waiting list")
                assert await pages[2].get_attribute("#group-state", "data-state") == "waiting"
                assert waiting.admit_all_button.text() == "Admit all (1 waiting)"
                waiting.admit_all_button.click()
                await connected(pages[2])
                await wait_until(lambda: waiting.waiting == [], "nobody waiting")
                assert waiting.empty.isVisibleTo(window)
                await wait_until(
                    lambda: {p.id for p in window.participants} >= {"guest-1", "guest-2"},
                    "both pages in the window's list",
                )
                await wait_until(
                    lambda: sum(1 for n in service.tiles_shown.values() if n > 0) == 2,
                    "both pages' pictures in their tiles",
                )

                # Chat both ways: Enter in the window reaches both pages; a page's message
                # reaches the window (as text).
                chat = window.chat_panel.messages
                for page in pages.values():  # each page's chat joined (shown once it did)
                    await page.wait_for_selector("#group-chat:not([hidden])", timeout=20_000)
                window.chat_panel.entry.setText("Hello <b>everyone</b>")
                QTest.keyClick(window.chat_panel.entry, Qt.Key.Key_Return)
                await wait_until(
                    lambda: chat.count() == 1 or window.chat_panel.state.isVisibleTo(window),
                    "the clinician's own message delivered",
                )
                assert chat.count() == 1, window.chat_panel.state.text()
                for page in pages.values():
                    await page_eventually(
                        page, "document.querySelectorAll('#group-chat-log li').length === 1",
                        "the clinician's message",
                    )
                    texts = await page.locator("#group-chat-log .chat-text").all_inner_texts()
                    assert texts == ["Hello <b>everyone</b>"]
                await pages[2].fill("#group-chat-text", "Thank you, doctor")
                await pages[2].press("#group-chat-text", "Enter")
                await wait_until(lambda: chat.count() == 2, "the page's message in the window")
                assert chat.item(0).text().startswith("You · ")
                assert chat.item(0).text().endswith("\nHello <b>everyone</b>")
                assert chat.item(1).text().startswith("Guest 2 · ")
                assert chat.item(1).text().endswith("\nThank you, doctor")
                assert window.chat_panel.entry.text() == ""
                await asyncio.sleep(0.5)  # a few more frames in each tile for the picture
                if screenshot_dir is not None:
                    window.grab().save(str(screenshot_dir / "group-call-admitted-chat.png"))
        finally:
            await service.leave()
            window.close()
            await api.close()

    try:
        run(loop, scenario)
    finally:
        qapp.setQuitOnLastWindowClosed(quits)
