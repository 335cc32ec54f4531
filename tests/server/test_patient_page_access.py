"""The patient's pages as people with other needs and other browsers meet them, in real Chromium.

axe-core on every page in light and dark; the status regions a screen reader announces; the
early patient told when the call comes; dates in the patient's locale on the clinic's clock; a
choice of camera, microphone and speakers that the call uses; and the waiting time that goes on
across a server restart.
"""

import json
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine
from sqlmodel import Session

from server.app import create_app
from server.models.user import User
from server.models.waiting import WaitingVisit
from server.services.accounts import start_session
from server.settings import Settings
from shared.clock import FixedClock
from tests.polling import wait_until
from tests.server.axe_check import Scheme, assert_clean, check_page
from tests.server.browser_helpers import ARGS, DESKTOP, chromium, shown
from tests.server.conftest import TOMORROW_9, Clinic, sqlite_database
from tests.server.live_server import desktop, live, next_event
from tests.server.mail_helpers import Mailbox
from tests.server.postgres import free_port
from tests.server.test_patient_pages import (  # noqa: F401  (fixtures)
    Clinic2,
    _to_device_check,
    _to_waiting_room,
    browser,
    mail,
    quick_settings,
    served,
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the pages do not depend on the database (its visits are tested on both)."""
    return sqlite_database(tmp_path)


def _page(chromium_browser: Browser, locale: str = "en-GB", scheme: Scheme = "light") -> Page:
    context = chromium_browser.new_context(viewport=DESKTOP, locale=locale, color_scheme=scheme)
    return context.new_page()


def _offer(desk: object, appointment: str) -> None:
    message = {
        "type": "signal",
        "appointment_id": appointment,
        "kind": "offer",
        "payload": {"type": "offer", "sdp": "v=0 not a real offer"},
    }
    desk.send(json.dumps(message))  # type: ignore[attr-defined]


def test_every_patient_page_passes_axe_light_and_dark(
    served: Clinic2,  # noqa: F811
    browser: Browser,  # noqa: F811
    screenshot_dir: Path | None,
    clock: FixedClock,
) -> None:
    appointment, link = served.book()
    with desktop(served.base, served.clinic.tokens["ng"]) as desk:
        page = _page(browser)
        page.goto(link)
        shown(page, "welcome")
        check_page(page, screenshot_dir, "a11y-welcome")

        page.get_by_role("button", name="Continue").click()
        shown(page, "device-check")
        page.wait_for_selector('#camera-state[data-state="ok"]')
        page.wait_for_selector('#mic-label[data-state="ok"]')
        # The results a screen reader announces are status regions.
        assert page.get_attribute("#camera-state", "role") == "status"
        assert page.get_attribute("#mic-label", "role") == "status"
        assert page.get_by_role("status").filter(has_text="Camera: working").count() == 1
        check_page(page, screenshot_dir, "a11y-device-check")

        page.get_by_role("button", name="Join the waiting room").click()
        shown(page, "waiting")
        page.wait_for_selector('#connection[data-state="online"]')
        next_event(desk, "presence")
        path = f"/appointments/{appointment}/waiting-message"
        served.call("ng", "POST", path, {"text": "Running 10 minutes late"}, expect=202)
        page.wait_for_selector("#messages li:has-text('Running 10 minutes late')")
        # The live region wraps a plain list (WCAG 1.3.1): the list keeps its own role.
        assert page.get_attribute("#messages-log", "role") == "log"
        assert page.get_attribute("#messages", "role") is None
        check_page(page, screenshot_dir, "a11y-waiting")

        _offer(desk, appointment)
        shown(page, "call")
        page.wait_for_selector("#call-chat-form")
        chat = page.locator("#call-chat-log")
        assert (chat.get_attribute("role"), chat.get_attribute("tabindex")) == ("log", "0")
        assert page.locator("#call-chat-list").evaluate("list => list.tagName") == "OL"
        # A visible label, not a placeholder, names the chat box.
        label = page.locator("label[for='call-chat-input']")
        assert label.is_visible() and label.inner_text() == "Message to Ng"
        assert page.get_by_role("textbox", name="Message to Ng").count() == 1
        assert page.get_attribute("#call-chat-input", "placeholder") is None
        check_page(page, screenshot_dir, "a11y-call")

        hangup = {"type": "signal", "appointment_id": appointment, "kind": "hangup", "payload": {}}
        desk.send(json.dumps(hangup))
        shown(page, "ended")
        check_page(page, screenshot_dir, "a11y-ended")

    # The server gone: the page says so, in words, with a way on.
    page.route("**/patient/join", lambda route: route.abort())
    page.reload()
    shown(page, "problem")
    check_page(page, screenshot_dir, "a11y-problem")


def test_the_early_patient_is_told_when_the_call_comes_in_their_locale(
    served: Clinic2,  # noqa: F811
    browser: Browser,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
    settings: Settings,
) -> None:
    appointment, link = served.book()  # Friday 27 November 14:00 at St Mary's (London)
    start = TOMORROW_9 + timedelta(hours=5)
    # An American patient, their laptop on New York time: the clinic's clock, their way.
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="America/New_York")
    american = context.new_page()
    american.goto(link)
    shown(american, "welcome")
    assert "Friday, November 27, 2026, 2:00 – 2:20 PM GMT" in american.inner_text("#welcome")
    _to_waiting_room(american, link)
    # A day early: the page says when, and does not pretend the clinic sees them waiting.
    assert american.inner_text("#waiting-title") == "You are early"
    early = american.inner_text("#early")
    assert "Your appointment is on Friday, November 27 at 2:00 PM." in early
    assert "The clinic will call you then" in early
    connection = american.get_by_role("status").filter(has_text="Connected")
    assert (
        connection.inner_text()
        == "Connected — the clinic will call you on Friday, November 27 at 2:00 PM"
    )

    # Three seconds before the clinic's waiting window (start - 5 minutes) a British patient
    # joins: the same day, a 24-hour clock; the words change by themselves when it opens.
    clock.set(start - timedelta(minutes=5, seconds=3))
    _sign_in_again(served, engine, settings, clock)
    british = _page(browser)
    _to_waiting_room(british, link)
    british.wait_for_selector("#early:has-text('Your appointment is at 14:00.')")
    british.wait_for_selector(
        "#connection:has-text('Connected — the clinic can see you are here')", timeout=10_000
    )
    assert british.locator("#early").is_hidden()
    assert british.inner_text("#waiting-title") == "Your clinician will be with you shortly"

    path = f"/appointments/{appointment}/waiting-message"
    served.call("ng", "POST", path, {"text": "Nearly ready"}, expect=202)
    british.wait_for_selector("#messages li:has-text('Nearly ready')")
    american.wait_for_selector("#messages li:has-text('Nearly ready')")
    assert british.inner_text("#messages time") == "13:54"
    assert american.inner_text("#messages time") == "1:54 PM"
    context.close()
    british.context.close()


def test_the_patient_picks_camera_microphone_and_speakers_and_the_call_uses_them(
    served: Clinic2,  # noqa: F811
    screenshot_dir: Path | None,
) -> None:
    appointment, link = served.book(hours=1)
    # Two fake cameras; Chromium's fake audio has several inputs and outputs already.
    with chromium([*ARGS, "--use-fake-device-for-media-stream=device-count=2"]) as two:
        page = _page(two)
        _to_device_check(page, link)
        for box in ("#camera-choice", "#mic-choice", "#speaker-choice"):
            page.wait_for_selector(box, state="visible")
            assert page.locator(f"{box} option").count() >= 2
        assert page.get_by_role("combobox", name="Camera to use").count() == 1
        assert page.get_by_role("combobox", name="Microphone to use").count() == 1
        assert page.get_by_role("combobox", name="Speakers or headphones to use").count() == 1

        # By keyboard alone: an arrow key on the camera's choice picks the other camera; the
        # check runs again on it, and the focus stays on the choice.
        first = page.locator("#camera-choice").input_value()
        page.focus("#camera-choice")
        page.keyboard.press("ArrowDown" if _index(page, "camera-choice") == 0 else "ArrowUp")
        choice = {"camera-choice": page.locator("#camera-choice").input_value()}
        assert choice["camera-choice"] != first
        wait_until(lambda: _in_use(page, "video") == choice["camera-choice"])
        page.wait_for_selector('#camera-state[data-state="ok"]')
        assert page.evaluate("document.activeElement.id") == "camera-choice"
        for box in ("mic-choice", "speaker-choice"):
            values = page.locator(f"#{box} option").evaluate_all("os => os.map(o => o.value)")
            current = page.locator(f"#{box}").input_value()
            choice[box] = next(v for v in values if v != current)
            page.locator(f"#{box}").select_option(choice[box])
        # The check runs again on the picked microphone too.
        wait_until(lambda: _in_use(page, "video") == choice["camera-choice"])
        wait_until(lambda: _in_use(page, "audio") == choice["mic-choice"])
        page.wait_for_selector('#camera-state[data-state="ok"]')
        page.get_by_role("button", name="Play a test sound").click()
        page.wait_for_selector("#speaker-state:has-text('Playing a test sound')")
        sink = "document.getElementById('{}').sinkId"
        wait_until(lambda: page.evaluate(sink.format("test-sound")) == choice["speaker-choice"])
        assert page.locator("#camera-choice").input_value() == choice["camera-choice"]
        if screenshot_dir is not None:
            page.screenshot(path=str(screenshot_dir / "patient-device-choices.png"))

        page.get_by_role("button", name="Join the waiting room").click()
        shown(page, "waiting")
        page.wait_for_selector('#connection[data-state="online"]')
        # A reload keeps the picks: the tab goes back to the waiting room on the same devices.
        page.reload()
        shown(page, "waiting")
        wait_until(lambda: _in_use(page, "video") == choice["camera-choice"])
        wait_until(lambda: _in_use(page, "audio") == choice["mic-choice"])
        with desktop(served.base, served.clinic.tokens["ng"]) as desk:
            _offer(desk, appointment)
            shown(page, "call")
            # The call sends the picked camera and microphone and plays on the picked speakers.
            wait_until(
                lambda: page.evaluate(sink.format("remote-audio")) == choice["speaker-choice"]
            )
            assert _in_use(page, "video") == choice["camera-choice"]
            assert page.locator("#local-video").evaluate(
                "v => v.srcObject === window.clinicDesk.localStream()"
            )


def _index(page: Page, select: str) -> int:
    return int(page.locator(f"#{select}").evaluate("s => s.selectedIndex"))


def _in_use(page: Page, kind: str) -> str:
    """The deviceId of the stream the page would send (window.clinicDesk.localStream())."""
    script = (
        "(kind) => { const s = window.clinicDesk.localStream();"
        " const t = s && (kind === 'video' ? s.getVideoTracks() : s.getAudioTracks())[0];"
        " return t && t.readyState === 'live' ? t.getSettings().deviceId : ''; }"
    )
    return str(page.evaluate(script, kind))


@pytest.fixture
def site_settings(settings: Settings, mail: tuple[Mailbox, int]) -> Settings:  # noqa: F811
    return quick_settings(settings, mail[1], free_port())


def test_the_waiting_time_goes_on_across_a_server_restart(
    site_settings: Settings,
    engine: Engine,
    clock: FixedClock,
    clinic: Clinic,
    mail: tuple[Mailbox, int],  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    port = int(site_settings.public_url.rsplit(":", 1)[1])
    arrived = clock.now()
    first: FastAPI = create_app(site_settings, engine, clock)
    with live(first, port) as base:
        site = Clinic2(first, base, clinic, mail[0])
        appointment, link = site.book()
        with desktop(base, clinic.tokens["ng"]) as desk:
            page = _page(browser)
            _to_waiting_room(page, link)
            entered = next_event(desk, "presence")
            assert datetime.fromisoformat(entered["at"]) == arrived
            clock.advance(7 * 60)
    # The server is gone: the page says so in a status region, and keeps trying.
    page.wait_for_selector('#connection[data-state="offline"]')
    assert (
        page.get_by_role("status").filter(has_text="Connection lost — reconnecting…").count() == 1
    )

    second = create_app(site_settings, engine, clock)
    with live(second, port) as base, desktop(base, clinic.tokens["ng"]) as desk:
        page.wait_for_selector('#connection[data-state="online"]', timeout=20_000)
        assert page.inner_text("#waited") == "7 minutes"
        # The desktop hears the same arrival, so its waiting time agrees with the page's.
        entered = next_event(desk, "presence")
        assert (entered["appointment_id"], entered["state"]) == (appointment, "entered")
        assert datetime.fromisoformat(entered["at"]) == arrived
        page.context.close()
        left = next_event(desk, "presence")
        assert left["state"] == "left"
    # Gone for real: the next visit starts from its own arrival.
    with Session(engine) as session:
        assert session.get(WaitingVisit, UUID(appointment)) is None


def _sign_in_again(site: Clinic2, engine: Engine, settings: Settings, clock: FixedClock) -> None:
    """Fresh tokens for Dr Ng after the clock jumped past the old ones' expiry."""
    with Session(engine, expire_on_commit=False) as session:
        user = session.get(User, site.clinic.ids["ng"])
        assert user is not None
        site.clinic.tokens["ng"] = start_session(session, settings, user, clock.now()).access_token
        session.commit()


def test_axe_finds_a_live_region_that_takes_the_lists_role(browser: Browser) -> None:  # noqa: F811
    """The checker itself: the chat's old markup (role="log" on the <ol>) fails it."""
    page = _page(browser)
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>Chat</title></head><body><main>'
        '<h1>Chat</h1><ol role="log" aria-label="Chat messages"><li>Hello</li></ol>'
        "</main></body></html>"
    )
    with pytest.raises(AssertionError, match="listitem"):
        assert_clean(page, "old chat")
