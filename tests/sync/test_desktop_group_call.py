"""Joining a group appointment's call from the schedule, through the real server: the row's
actions offer it, and a server without Janus says so in the window and on the schedule."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pytestqt.qtbot import QtBot

from app.ui.call.call_controller import CallController
from app.ui.group_call.group_call_controller import GroupCallController
from app.ui.group_call.group_call_window import GroupCallWindow
from app.ui.schedule.actions_menu import ActionKey, action_states
from shared.enums import AppointmentStatus
from tests.server.server_process import LiveServer
from tests.sync.desk import Desk
from tests.sync.live_server import LiveClinic
from tests.sync.qt_loop import QtLoop, qt_loop
from tests.sync.test_desktop_sync import close_window, open_window, rows, show_day_of


async def _guest_refusal(url: str, token: str) -> str:
    async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
        answer = await http.post("/patient/group-call", json={"token": token})
    return str(answer.json().get("code"))


@pytest.fixture
def qloop(qapp: object) -> Iterator[QtLoop]:
    with qt_loop(qapp) as loop:
        yield loop


def test_a_server_without_janus_says_so_and_nothing_changes(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, live: LiveServer, clinic: LiveClinic,
) -> None:
    window = open_window(tmp_path, qloop, live.url, "ng")
    clerk = Desk(tmp_path / "clerk.sqlite3", live.url, "clerk")
    try:
        qloop.run(clerk.sign_in())
        qloop.run(clerk.sync())  # the staff directory
        soon = (datetime.now(UTC) + timedelta(minutes=3)).replace(second=0, microsecond=0)
        booked = qloop.run(clerk.book(clinic.ids["ng"], soon, "Ada Lovelace",
                                      guests=("Bea Guest", "Cy Guest")))
        qloop.run(clerk.sync())
        show_day_of(qloop, window, soon)
        qloop.wait_until(lambda: booked.id in rows(window))
        appointment = rows(window)[booked.id]
        video = next(s for s in action_states(appointment, datetime.now(UTC), server=True)
                     if s.key is ActionKey.VIDEO_CALL)
        assert (video.text, video.enabled) == ("Join the &group call", True)

        assert isinstance(window.window.calls, CallController)
        group = window.window.calls.group
        assert isinstance(group, GroupCallController)
        window.window.trigger(ActionKey.VIDEO_CALL, appointment)
        qloop.wait_until(lambda: group.call_window is not None)
        call_window = group.call_window
        assert isinstance(call_window, GroupCallWindow)
        qloop.wait_until(lambda: "not set up" in call_window.notice.text())
        assert "not set up" in window.window.banner.label.text()
        assert not call_window.leave_button.isEnabled()
        assert not group.service.in_call and not window.idle_lock._held
        # Nothing changed: the appointment is still scheduled.
        assert rows(window)[booked.id].status is AppointmentStatus.SCHEDULED

        # The room controls go through the server: a lock holds without Janus (a participant
        # who was never in is refused), ending needs Janus and says why it cannot.
        link = qloop.run(clerk.api.patient_link(booked.id, 2))
        token = link.split("#", 1)[1]
        group._control(booked.id, "lock", {"locked": True})
        qloop.wait_until(lambda: not group._controls)
        assert qloop.run(_guest_refusal(live.url, token)) == "room_locked"
        group._control(booked.id, "end")
        qloop.wait_until(lambda: "not set up" in call_window.notice.text()
                         and "not set up" in window.window.banner.label.text())
        call_window.show_notice("")
        # Every notice the window shows, kept: the service's own notices (its join refused
        # again) may replace this one at any moment, as they may for the user.
        shown: list[str] = []
        call_window.notice.setText = lambda text: shown.append(text)  # type: ignore[method-assign]
        group._control(booked.id, "participants/guest-5/remove")
        qloop.wait_until(lambda: any("Nobody of that name" in text for text in shown))
        call_window.close()
    finally:
        qloop.run(clerk.close())
        close_window(qloop, window)
