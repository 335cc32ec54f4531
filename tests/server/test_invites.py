"""Invites by email: a real SMTP server receives them; their fields, links and calendars."""

import re
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from server.app import create_app
from server.app_state import state_of
from server.settings import Settings
from shared.clock import FixedClock
from tests.polling import wait_until
from tests.server.api_helpers import Api
from tests.server.conftest import Clinic
from tests.server.mail_helpers import (
    Mailbox,
    calendar_of,
    join_link,
    smtp_server,
    text_part,
    token_of,
)

LONDON = ZoneInfo("Europe/London")
SENDER = "St Mary's Clinic <clinic@stmarys.example>"
PHONE = "020 7946 0000"


def with_smtp(settings: Settings, port: int, **more: Any) -> Settings:
    """The fixture's settings with invites on, sent to the test SMTP server on `port`."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_from": SENDER,
            "public_url": "http://127.0.0.1:9",
            "clinic_phone": PHONE,
            "invite_retry_seconds": 30.0,
        }
        | more
    )


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def invite_app(
    settings: Settings, engine: Engine, clock: FixedClock, mail: tuple[Mailbox, int]
) -> FastAPI:
    return create_app(with_smtp(settings, mail[1]), engine, clock)


def _book(api: Api, **fields: Any) -> dict[str, Any]:
    return api.book("clerk", "ng", location_id=str(api.id("location")), **fields)


def _appointment(api: Api, appointment_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = api.call("clerk", "GET", f"/appointments/{appointment_id}", expect=200)
    return answer


def _wake(app: FastAPI) -> None:
    """Let the invite worker look for due invites now (the clock was moved past a retry)."""
    sender = state_of(app).invite_sender
    assert sender is not None
    sender.wake()


def _event(message: Any) -> Any:
    calendar = calendar_of(message)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_booking_emails_the_patient_a_link_and_a_calendar_entry(
    invite_app: FastAPI, clinic: Clinic, mail: tuple[Mailbox, int]
) -> None:
    mailbox, _ = mail
    with TestClient(invite_app) as client:
        api = Api(client, clinic)
        cursor = api.call("clerk", "GET", "/sync/pull?protocol=1", expect=200)["cursor"]
        booked = _book(api)
        assert booked["invite_status"] == "queued"
        (message,) = mailbox.wait(1)
        assert mailbox.recipients[0] == ["ada@example.org"]
        assert message["To"] == "Ada Lovelace <ada@example.org>"
        assert message["From"] == SENDER
        start = datetime.fromisoformat(booked["start"]).astimezone(LONDON)
        # The day comes from the slot: next_start() moves on with every booking of the run.
        assert message["Subject"] == (
            f"Your video appointment with Ng on {start:%a} {start.day} {start:%b} at {start:%H:%M}"
        )
        when = f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M} to "
        plain, html = text_part(message, "plain"), text_part(message, "html")
        for part in (plain, html):
            assert "Ada Lovelace" in part
            assert when in part and "(GMT)" in part
            assert "Ng" in part and "Praed St" in part and PHONE in part
        assert "St Mary&#x27;s" in html and "St Mary's" in plain
        link = join_link(message)
        assert link.startswith("http://127.0.0.1:9/join#") and link in plain
        token = token_of(link)
        assert len(token) >= 43  # 32 random bytes, URL-safe base64: 256 bits
        assert token not in str(api.call("clerk", "GET", f"/appointments/{booked['id']}"))

        calendar, event = _event(message)
        assert calendar["METHOD"] == "REQUEST"
        assert event["UID"] == f"{booked['id']}@clinic-desk"
        assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
        assert event.decoded("DTSTART") == start
        assert str(event.decoded("DTSTART").tzinfo) == "Europe/London"
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=15)
        assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"
        assert str(event["URL"]) == link

        # The delivery shows on the appointment, and desktops pull it as a change.
        wait_until(lambda: _appointment(api, booked["id"])["invite_status"] == "sent")
        pulled = api.call("clerk", "GET", f"/sync/pull?protocol=1&cursor={cursor}", expect=200)
        states = [c["data"]["invite_status"] for c in pulled["changes"] if c["id"] == booked["id"]]
        assert states == ["sent"]

        joined = client.post("/patient/join", json={"token": token})
        assert joined.status_code == 200, joined.text
        details = joined.json()
        assert details["name"] == "Ada Lovelace" and details["clinician"] == "Ng"
        assert details["hospital"] == "St Mary's" and details["time_zone"] == "Europe/London"
        assert details["when"].startswith(when) and details["clinic_phone"] == PHONE
        assert "patient_id" not in details and "id" not in details
        # Opening the link is in the audit log, with the link (never its token).
        events = api.call("admin", "GET", "/audit-events?action=patient_link.open", expect=200)
        assert [e["entity_id"] for e in events] == [booked["id"]]
        assert events[0]["actor_id"] is None and token not in str(events)


def test_reschedule_updates_and_cancel_cancels_the_calendar_entry(
    invite_app: FastAPI, clinic: Clinic, mail: tuple[Mailbox, int]
) -> None:
    mailbox, _ = mail
    with TestClient(invite_app) as client:
        api = Api(client, clinic)
        booked = _book(api)
        first = mailbox.wait(1)[0]
        wait_until(lambda: _appointment(api, booked["id"])["invite_status"] == "sent")
        new_start = datetime.fromisoformat(booked["start"]) + timedelta(days=1)
        moved = api.call(
            "clerk",
            "PATCH",
            f"/appointments/{booked['id']}",
            {"start": new_start.isoformat(), "base_version": 1},
            expect=200,
        )
        second = mailbox.wait(2)[1]
        assert second["Subject"].startswith("Changed: your video appointment is now on Sat 28 Nov")
        calendar, event = _event(second)
        assert calendar["METHOD"] == "REQUEST"
        assert event["UID"] == _event(first)[1]["UID"]
        assert event["SEQUENCE"] == 1
        assert event.decoded("DTSTART") == new_start.astimezone(LONDON)
        # The first email's link follows the appointment: still valid after the move.
        assert (
            client.post("/patient/join", json={"token": token_of(join_link(first))})
            .json()["when"]
            .startswith("Saturday 28 November")
        )
        wait_until(lambda: _appointment(api, booked["id"])["invite_status"] == "sent")

        path = f"/appointments/{booked['id']}/cancel"
        api.call("clerk", "POST", path, {"reason": "ill", "base_version": moved["version"]}, 200)
        third = mailbox.wait(3)[2]
        assert third["Subject"].startswith("Cancelled: your video appointment")
        assert "Join your appointment" not in text_part(third, "html")
        calendar, event = _event(third)
        assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
        assert event["UID"] == _event(first)[1]["UID"] and event["SEQUENCE"] == 2
        for message in (first, second):
            refused = client.post("/patient/join", json={"token": token_of(join_link(message))})
            assert refused.status_code == 410
            assert refused.json()["code"] == "appointment_cancelled"
            assert PHONE in refused.json()["message"]


def test_notes_alone_send_no_email(
    invite_app: FastAPI, clinic: Clinic, mail: tuple[Mailbox, int]
) -> None:
    mailbox, _ = mail
    with TestClient(invite_app) as client:
        api = Api(client, clinic)
        booked = _book(api)
        mailbox.wait(1)
        wait_until(lambda: _appointment(api, booked["id"])["invite_status"] == "sent")
        path = f"/appointments/{booked['id']}"
        api.call("clerk", "PATCH", path, {"notes": "x", "base_version": 1}, expect=200)
        resent = api.call("clerk", "POST", f"{path}/invites", expect=202)
        assert resent["invite_status"] == "queued"
        messages = mailbox.wait(2)
        assert len(mailbox.messages) == 2
        assert messages[1]["Subject"].startswith("Your video appointment")
        # A resend mints a new link; the first stays valid.
        tokens = [token_of(join_link(m)) for m in messages]
        assert tokens[0] != tokens[1]
        for token in tokens:
            assert client.post("/patient/join", json={"token": token}).status_code == 200


def test_group_participants_each_get_their_own_link(
    invite_app: FastAPI, clinic: Clinic, mail: tuple[Mailbox, int]
) -> None:
    mailbox, _ = mail
    participants = [
        {"name": "Ben Carer", "email": "ben@example.org"},
        {"name": "Cy Parent", "email": "cy@example.org"},
    ]
    with TestClient(invite_app) as client:
        api = Api(client, clinic)
        booked = _book(api, kind="group", participants=participants)
        messages = mailbox.wait(3)
        by_address = {rcpt[0]: m for rcpt, m in zip(mailbox.recipients, messages, strict=True)}
        assert set(by_address) == {"ada@example.org", "ben@example.org", "cy@example.org"}
        tokens = {address: token_of(join_link(m)) for address, m in by_address.items()}
        assert len(set(tokens.values())) == 3
        names = {
            address: client.post("/patient/join", json={"token": token}).json()["name"]
            for address, token in tokens.items()
        }
        assert names == {
            "ada@example.org": "Ada Lovelace",
            "ben@example.org": "Ben Carer",
            "cy@example.org": "Cy Parent",
        }
        assert "group video appointment" in messages[0]["Subject"]
        wait_until(lambda: _appointment(api, booked["id"])["invite_status"] == "sent")


def test_links_expire_after_the_grace_period_and_wrong_tokens_learn_nothing(
    invite_app: FastAPI, clinic: Clinic, mail: tuple[Mailbox, int], clock: FixedClock
) -> None:
    mailbox, _ = mail
    with TestClient(invite_app) as client:
        api = Api(client, clinic)
        booked = _book(api)
        token = token_of(join_link(mailbox.wait(1)[0]))
        end = datetime.fromisoformat(booked["start"]) + timedelta(minutes=15)
        clock.set(end + timedelta(minutes=59))
        assert client.post("/patient/join", json={"token": token}).status_code == 200
        clock.set(end + timedelta(minutes=60))
        expired = client.post("/patient/join", json={"token": token})
        assert (expired.status_code, expired.json()["code"]) == (410, "link_expired")

        answers = [
            client.post("/patient/join", json={"token": wrong})
            for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x", "a" * 128)
        ]
        assert {a.status_code for a in answers} == {404}
        assert len({a.text for a in answers}) == 1
        assert answers[0].json() == {
            "code": "unknown_link",
            "message": "This link is not valid. Check that you copied all of it.",
            "fields": [],
        }
        too_long = client.post("/patient/join", json={"token": "a" * 129})
        assert too_long.status_code == 422


def test_wrong_tokens_are_rate_limited_per_address_but_a_right_one_opens(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    limited = settings.model_copy(update={"join_failures_per_address": 3})
    with TestClient(create_app(limited, engine, clock)) as client:
        for _ in range(3):
            assert client.post("/patient/join", json={"token": "nope"}).status_code == 404
        refused = client.post("/patient/join", json={"token": "nope"})
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) > 0
        # The patient behind the guesser's address still gets in: only wrong links wait.
        booked = Api(client, clinic).book("clerk", "ng")
        link = Api(client, clinic).call(
            "clerk", "POST", f"/appointments/{booked['id']}/patient-link", {}, expect=201
        )
        good = client.post("/patient/join", json={"token": token_of(link["url"])})
        assert good.status_code == 200, good.text
        with client.websocket_connect("/patient/socket") as socket:
            socket.send_json({"type": "auth", "token": token_of(link["url"])})
            assert socket.receive_json()["type"] == "hello"
        assert client.post("/patient/join", json={"token": "nope"}).status_code == 429


def test_a_copied_link_opens_the_waiting_room_without_email(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    booked = api.book("clerk", "ng")
    assert booked["invite_status"] == "" and booked["invite_error"] == ""
    path = f"/appointments/{booked['id']}"
    link = api.call("ng", "POST", f"{path}/patient-link", {}, expect=201)
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/join#[A-Za-z0-9_-]{43}", link["url"])
    assert link["recipient"] == 0
    assert link["valid_until"].startswith(booked["start"][:10])
    assert client.post("/patient/join", json={"token": token_of(link["url"])}).status_code == 200
    refused = api.call("ng", "POST", f"{path}/invites", expect=409)
    assert refused["code"] == "invites_off"
    missing = api.call("ng", "POST", f"{path}/patient-link", {"recipient": 1}, expect=422)
    assert missing["fields"][0]["field"] == "recipient"
    api.call("lee", "POST", f"{path}/patient-link", {}, expect=403)


def test_a_failed_send_shows_on_the_appointment_and_is_retried(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    from tests.server.postgres import free_port

    port = free_port()  # nothing listens yet: the SMTP server is down
    app = create_app(with_smtp(settings, port), engine, clock)
    with TestClient(app) as client:
        api = Api(client, clinic)
        booked = _book(api)
        failed = wait_until(
            lambda: (a := _appointment(api, booked["id"]))["invite_status"] == "failed" and a
        )
        assert failed["invite_error"] == (
            "ada@example.org: could not reach the mail server (retrying)"
        )
        with smtp_server(port) as (mailbox, _):
            clock.advance(30)
            _wake(app)
            (message,) = mailbox.wait(1)
            wait_until(lambda: _appointment(api, booked["id"])["invite_status"] == "sent")
            assert _appointment(api, booked["id"])["invite_error"] == ""
            token = token_of(join_link(message))
            assert client.post("/patient/join", json={"token": token}).status_code == 200


def test_the_api_never_waits_for_the_mail_server(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    # A mail server that accepts connections and never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        app = create_app(with_smtp(settings, port, smtp_timeout_seconds=60.0), engine, clock)
        with TestClient(app) as client:
            api = Api(client, clinic)
            for _ in range(5):
                started = time.monotonic()
                booked = _book(api)
                api.call("clerk", "POST", f"/appointments/{booked['id']}/invites", expect=202)
                # Far below the mail server's 60 s timeout: booking never waits on the mail.
                assert time.monotonic() - started < 10.0
            assert _appointment(api, booked["id"])["invite_status"] == "queued"
            started = time.monotonic()
        # Shutting down does not wait for the silent server either.
        assert time.monotonic() - started < 5.0


def test_an_invite_that_keeps_failing_is_given_up(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    from tests.server.postgres import free_port

    app = create_app(with_smtp(settings, free_port(), invite_max_attempts=2), engine, clock)
    with TestClient(app) as client:
        api = Api(client, clinic)
        booked = _book(api)
        wait_until(lambda: "(retrying)" in _appointment(api, booked["id"])["invite_error"])
        clock.advance(30)
        _wake(app)
        given_up = wait_until(
            lambda: (
                (a := _appointment(api, booked["id"]))["invite_error"].endswith("(gave up)") and a
            )
        )
        assert given_up["invite_status"] == "failed"
