"""The desktop's group call (GroupCallService and its window) on a real Janus with an aiortc guest:
the desktop's screen share reaches the guest, the guest's shows as the window's large tile, and
Janus killed mid-call is ridden out ("reconnecting", then back by itself, tiles and share again).
"""

import asyncio
from pathlib import Path
from typing import Any

import qasync
from aiortc.contrib.media import MediaPlayer
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.media.group_session import screen_feed
from app.media.screen_share import lavfi_screen
from app.services.group_call_service import GroupCallService
from app.ui.group_call.group_call_window import GroupCallWindow
from shared.group_call_protocol import GroupJoin
from tests.janus_server import JanusServer
from tests.server.conftest import Clinic
from tests.server.group_calls.conftest import book_group, guest_join, guest_link, staff_join
from tests.server.group_calls.peers import Participant, wait_until
from tests.server.group_calls.test_restart import asking
from tests.server.group_calls.test_window import loop, run, service

__all__ = ["loop", "service"]  # the fixtures, shared with test_window.py

#: The same leak as test_window.py (a capture or converter thread outliving the qasync loop):

def test_screen_share_both_ways_and_janus_killed_mid_call(
    qtbot: Any,
    loop: qasync.QEventLoop,
    service: GroupCallService,
    client: TestClient,
    clinic: Clinic,
    engine: Engine,
    janus: JanusServer,
    screenshot_dir: Path | None,
) -> None:
    appointment = book_group(engine, clinic, guests=1)
    credential = staff_join(client, clinic, "ng", appointment)
    link = guest_link(engine, appointment, 1)
    as_guest = asking(lambda: client.post("/patient/group-call", json={"token": link}))

    async def as_staff() -> GroupJoin:
        return staff_join(client, clinic, "ng", appointment)

    window = GroupCallWindow(service, "Diabetes education group")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    notices: list[str] = []
    service.reconnecting.connect(notices.append)
    guest_screen = MediaPlayer("smptehdbars=size=640x360:rate=10", format="lavfi")

    async def scenario() -> None:
        guest = Participant(guest_join(client, link), 440, camera=True, size="160x120",
                            renew=as_guest)
        heard = guest.recorder.heard
        mine = screen_feed(credential.id)
        try:
            await service.join(credential, again=as_staff)
            await guest.session.start()
            await wait_until(lambda: service.tiles_shown.get("guest-1", 0) > 3, "guest's tile")
            # The desktop shares its screen (a lavfi stand-in): the guest decodes it.
            await service.set_screen_share(True, lavfi_screen(640, 360, 10))
            assert service.sharing_screen
            assert window.share_button.text() == "Stop sharing"
            await wait_until(lambda: mine in heard.screens, "the desktop's share announced")
            await guest.session.show([mine])
            await wait_until(lambda: heard.video_frames.get(mine, 0) >= 5, "the share's frames")
            assert window.screen_shown() is None  # the sharer sees no tile of their own
            # The guest shares theirs: the desktop's window shows it as the large tile.
            assert guest_screen.video is not None
            await guest.session.share_screen(guest_screen.video)
            theirs = screen_feed("guest-1")
            await wait_until(lambda: window.screen_shown() == theirs, "the large tile")
            await wait_until(lambda: service.tiles_shown.get(theirs, 0) > 3, "its pictures")
            assert window.screen_tile.isVisible()
            assert window.screen_tile.name_label.text() == "Guest 1 (screen)"
            assert theirs not in [p.id for p in window.participants]
            await asyncio.sleep(0.3)
            if screenshot_dir is not None:
                window.grab().save(str(screenshot_dir / "group-call-screen-share.png"))

            # Janus dies: the window says so, then the desktop is back by itself.
            janus.kill()
            await wait_until(lambda: bool(notices), "reconnecting")
            assert window.notice.isVisible() and "reconnecting" in window.notice.text()
            janus.start()
            await wait_until(lambda: window.notice.text() == "Reconnected to the group call.",
                             "reconnected")
            assert service.in_call and service.sharing_screen
            before = service.tiles_shown.get("guest-1", 0)
            await wait_until(lambda: service.tiles_shown.get("guest-1", 0) > before + 3,
                             "the guest's tile after the restart")
            await wait_until(lambda: window.screen_shown() == theirs, "their share again")
            await wait_until(lambda: mine in heard.screens, "the desktop's share again")
            window.share_button.click()
            await wait_until(lambda: window.share_button.text() == "Share screen", "stopped")
            assert not service.sharing_screen and window.share_button.isEnabled()
            await wait_until(lambda: mine not in heard.screens, "the share gone for the guest")
        finally:
            await service.leave()
            service.close()
            await guest.close()
            if guest_screen.video is not None:
                guest_screen.video.stop()
            await asyncio.sleep(0.3)

    run(loop, scenario)
