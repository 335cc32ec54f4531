"""The patient's journey in a real browser: email link, device check, waiting room, presence.

A real SMTP server receives the invite; headless Chromium opens its button's link with a fake
camera and microphone; a desktop's realtime socket sees the patient enter and leave.
"""

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from server.app import create_app
from server.app_state import state_of
from server.settings import Settings
from shared.clock import FixedClock
from tests.polling import wait_until
from tests.server.axe_check import check_page
from tests.server.browser_helpers import DESKTOP, chromium, screenshots, shown
from tests.server.conftest import TOMORROW_9, Clinic
from tests.server.live_server import desktop, live, next_event
from tests.server.mail_helpers import (
    Mailbox,
    calendar_of,
    join_link,
    smtp_server,
    text_part,
)
from tests.server.postgres import free_port
from tests.server.test_invites import with_smtp


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


class Clinic2:
    """The served clinic: its app, base URL and a way to book with an emailed link."""

    def __init__(self, app: FastAPI, base: str, clinic: Clinic, mailbox: Mailbox) -> None:
        self.app, self.base, self.clinic, self.mailbox = app, base, clinic, mailbox

    def call(self, user: str, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = httpx.request(
            method, self.base + path, json=body, headers=self.clinic.auth(user), timeout=10
        )
        assert response.status_code == expect, response.text
        return response.json()

    def book(self, hours: int = 0) -> tuple[str, str]:
        """A video appointment with Dr Ng for Ada Lovelace; its id and the emailed link."""
        body = {
            "patient_id": str(self.clinic.ids["patient"]),
            "clinician_id": str(self.clinic.ids["ng"]),
            "location_id": str(self.clinic.ids["location"]),
            "start": (TOMORROW_9 + timedelta(hours=5 + hours)).isoformat(),
            "duration_minutes": 20,
            "kind": "video",
        }
        booked = self.call("clerk", "POST", "/appointments", body, expect=201)
        uid = f"{booked['id']}@clinic-desk"

        def invite() -> Any:
            for message in list(self.mailbox.messages):
                if str(calendar_of(message).walk("VEVENT")[0]["UID"]) == uid:
                    return message
            return None

        return booked["id"], join_link(wait_until(invite, what="the invite"))


def quick_settings(settings: Settings, smtp_port: int, port: int) -> Settings:
    """Invites to the test SMTP server, links to `port`, quick heartbeats and leaving."""
    return with_smtp(
        settings,
        smtp_port,
        public_url=f"http://127.0.0.1:{port}",
        patient_heartbeat_seconds=1.0,
        patient_heartbeat_timeout_seconds=3.0,
        # Long enough for a reload on a loaded machine to reconnect before it counts as leaving.
        patient_leave_grace_seconds=3.0,
        waiting_threshold_minutes=5,
    )


@pytest.fixture
def served(
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    clinic: Clinic,
    mail: tuple[Mailbox, int],
) -> Iterator[Clinic2]:
    port = free_port()
    app = create_app(quick_settings(settings, mail[1], port), engine, clock)
    with live(app, port) as base:
        yield Clinic2(app, base, clinic, mail[0])


def _new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    return context.new_page()


def _to_device_check(page: Page, link: str) -> None:
    page.goto(link)
    shown(page, "welcome")
    page.get_by_role("button", name="Continue").click()
    shown(page, "device-check")
    page.wait_for_selector('#camera-state[data-state="ok"]')


def _to_waiting_room(page: Page, link: str) -> None:
    _to_device_check(page, link)
    page.get_by_role("button", name="Join the waiting room").click()
    shown(page, "waiting")
    page.wait_for_selector('#connection[data-state="online"]')


def test_the_patient_walks_from_the_email_to_the_waiting_room_and_out(
    served: Clinic2, browser: Browser, screenshot_dir: Path | None, clock: FixedClock
) -> None:
    appointment, link = served.book()
    room = state_of(served.app).waiting_room
    with desktop(served.base, served.clinic.tokens["ng"]) as desk:
        page = _new_page(browser)
        page.goto(link)
        shown(page, "welcome")
        assert page.locator("#welcome h1").inner_text() == "Hello, Ada Lovelace"
        assert "Friday, 27 November 2026, 14:00–14:20 GMT" in page.inner_text("#welcome")
        assert "St Mary's" in page.inner_text("#welcome") and "Ng" in page.inner_text("#welcome")
        screenshots(page, screenshot_dir, "welcome")

        page.get_by_role("button", name="Continue").click()
        shown(page, "device-check")
        page.wait_for_selector('#camera-state[data-state="ok"]')
        # The fake camera plays, and the fake microphone's beeps move the level meter.
        # (polled from here: the page's CSP forbids the eval that wait_for_function uses)
        wait_until(lambda: page.evaluate("document.getElementById('selfview').videoWidth") > 0)
        wait_until(lambda: page.evaluate("document.getElementById('mic-level').value") > 0.01)
        page.get_by_role("button", name="Play a test sound").click()
        page.wait_for_selector("#speaker-state", state="visible")
        screenshots(page, screenshot_dir, "device-check")

        page.get_by_role("button", name="Join the waiting room").click()
        shown(page, "waiting")
        page.wait_for_selector('#connection[data-state="online"]')
        entered = next_event(desk, "presence")
        assert (entered["appointment_id"], entered["state"]) == (appointment, "entered")

        path = f"/appointments/{appointment}/waiting-message"
        served.call("ng", "POST", path, {"text": "Running 10 minutes late"}, expect=202)
        page.wait_for_selector("#messages li:has-text('Running 10 minutes late')")
        screenshots(page, screenshot_dir, "waiting")

        # A second tab with the same link is the same patient: no second "entered", and
        # closing it is no "left" while the first is open.
        clock.advance(6 * 60)
        second = _new_page(browser)
        _to_waiting_room(second, link)
        wait_until(lambda: room.pages(_uuid(appointment)) == 2)
        # It has waited past the clinic's threshold (5 min): the phone number shows.
        second.wait_for_selector("#long-wait", state="visible")
        assert "020 7946 0000" in second.inner_text("#long-wait")
        assert "6 minutes" in second.inner_text("#waited")
        screenshots(second, screenshot_dir, "waiting-long")
        second.context.close()
        wait_until(lambda: room.pages(_uuid(appointment)) == 1)
        served.call("clerk", "POST", "/patients", {"name": "Sentinel"}, expect=201)
        assert next_event(desk)["type"] == "changes"  # no presence event came before it

        # A reload is no leaving either: the tab goes straight back to the waiting room.
        page.reload()
        shown(page, "waiting")
        page.wait_for_selector('#connection[data-state="online"]')
        wait_until(lambda: room.pages(_uuid(appointment)) == 1)
        served.call("clerk", "POST", "/patients", {"name": "Sentinel 2"}, expect=201)
        assert next_event(desk)["type"] == "changes"

        closed_at = time.monotonic()
        page.context.close()
        left = next_event(desk, "presence", timeout=15)
        assert (left["appointment_id"], left["state"]) == (appointment, "left")
        assert time.monotonic() - closed_at < 15


def test_the_clinician_starts_the_call_and_ends_it(
    served: Clinic2, browser: Browser, screenshot_dir: Path | None
) -> None:
    appointment, link = served.book(hours=1)
    with desktop(served.base, served.clinic.tokens["ng"]) as desk:
        page = _new_page(browser)
        page.add_init_script(
            "window.__signals = [];"
            "document.addEventListener('DOMContentLoaded', function () {"
            "  window.clinicDesk.onSignal = function (m) { window.__signals.push(m); };"
            "});"
        )
        _to_waiting_room(page, link)
        assert next_event(desk, "presence")["state"] == "entered"
        offer = {"sdp": "v=0 fake", "type": "offer"}
        desk.send(
            json.dumps(
                {"type": "signal", "appointment_id": appointment, "kind": "offer", "payload": offer}
            )
        )
        shown(page, "call")  # no reload: the same page switched
        assert page.evaluate("window.__signals[0].payload") == offer
        screenshots(page, screenshot_dir, "call")
        assert page.evaluate("window.clinicDesk.sendSignal('answer', {sdp: 'v=0 ok'})") is True
        answer = next_event(desk, "signal")
        assert (answer["kind"], answer["payload"], answer["sender"]) == (
            "answer",
            {"sdp": "v=0 ok"},
            "patient",
        )
        hangup = {"type": "signal", "appointment_id": appointment, "kind": "hangup", "payload": {}}
        desk.send(json.dumps(hangup))
        shown(page, "ended")
        screenshots(page, screenshot_dir, "ended")
        assert next_event(desk, "presence")["state"] == "left"


def test_unusable_links_each_get_their_own_page(
    served: Clinic2, browser: Browser, screenshot_dir: Path | None, clock: FixedClock
) -> None:
    page = _new_page(browser)
    page.goto(served.base + "/join#not-a-real-link")
    shown(page, "unknown")
    assert page.locator("#unknown h1").inner_text() == "This link does not work"
    screenshots(page, screenshot_dir, "unknown")
    check_page(page, screenshot_dir, "unknown")
    page.goto(served.base + "/join")
    shown(page, "unknown")

    appointment, link = served.book(hours=2)
    page.goto(link)
    shown(page, "welcome")
    cancel = {"reason": "ill", "base_version": 1}
    served.call("clerk", "POST", f"/appointments/{appointment}/cancel", cancel)
    page.reload()
    shown(page, "cancelled")
    assert "020 7946 0000" in page.inner_text("#cancelled")
    screenshots(page, screenshot_dir, "cancelled")
    check_page(page, screenshot_dir, "cancelled")

    _appointment, link = served.book(hours=3)
    clock.set(TOMORROW_9 + timedelta(days=2))
    page.goto(link)
    shown(page, "expired")
    screenshots(page, screenshot_dir, "expired")
    check_page(page, screenshot_dir, "expired")


@pytest.mark.parametrize(
    ("refuse", "name"),
    [
        ("video", "camera-denied"),
        ("all", "no-devices"),
    ],
)
def test_device_problems_get_help_and_a_way_on(
    served: Clinic2, browser: Browser, screenshot_dir: Path | None, refuse: str, name: str
) -> None:
    _appointment, link = served.book(hours=4 if refuse == "video" else 5)
    page = _new_page(browser)
    # The edge of the world: the browser's devices refuse (permission denied, or none at all).
    error = "NotAllowedError" if refuse == "video" else "NotFoundError"
    page.add_init_script(
        "(function () {"
        "  var real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);"
        "  navigator.mediaDevices.getUserMedia = function (wanted) {"
        f"    if ('{refuse}' === 'all' || wanted.video) {{"
        f"      return Promise.reject(new DOMException('refused', '{error}'));"
        "    }"
        "    return real(wanted);"
        "  };"
        "})();"
    )
    page.goto(link)
    shown(page, "welcome")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("#device-help", state="visible")
    help_text = page.inner_text("#device-help")
    if refuse == "video":
        assert "Please allow your camera" in help_text
        screenshots(page, screenshot_dir, name)
        check_page(page, screenshot_dir, name)
        page.get_by_role("button", name="Continue with audio only").click()
        page.wait_for_selector("#device-help", state="hidden")
        page.get_by_role("button", name="Join the waiting room (audio only)").click()
    else:
        assert "No camera or microphone found" in help_text
        screenshots(page, screenshot_dir, name)
        check_page(page, screenshot_dir, name)
        page.get_by_role("button", name="Join the waiting room anyway").click()
    shown(page, "waiting")
    page.wait_for_selector('#connection[data-state="online"]')


def _uuid(text: str) -> Any:
    from uuid import UUID

    return UUID(text)


def test_the_invite_email_reads_well(
    served: Clinic2, browser: Browser, screenshot_dir: Path | None
) -> None:
    _appointment, link = served.book(hours=6)
    message = next(m for m in served.mailbox.messages if link in text_part(m, "plain"))
    page = _new_page(browser)
    page.set_content(text_part(message, "html"))
    button = page.get_by_role("link", name="Join your appointment")
    assert button.get_attribute("href") == link
    screenshots(page, screenshot_dir, "invite-email")
