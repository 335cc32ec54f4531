"""Invites into a mail pickup folder (the demo's mail): one .eml per invite, named for the
appointment, whole, with the join link; a folder that cannot be written fails the invite."""

import time
from email import policy
from email.parser import BytesParser
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from app.demo.invite_mail import invite_files, newest_invite
from server.app import create_app
from server.settings import Settings
from shared.clock import FixedClock
from tests.server.api_helpers import Api
from tests.server.conftest import Clinic

SENDER = "St Mary's Clinic <clinic@stmarys.example>"


def _pickup(settings: Settings, folder: Path) -> Settings:
    return settings.model_copy(update={
        "mail_pickup_dir": str(folder), "smtp_from": SENDER,
        "public_url": "http://127.0.0.1:9",
    })


def _wait(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)


def test_booking_writes_the_invite_into_the_pickup_folder(
    tmp_path: Path, settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    folder = tmp_path / "mail"
    with TestClient(create_app(_pickup(settings, folder), engine, clock)) as client:
        api = Api(client, clinic)
        booked = api.book("clerk", "ng", location_id=str(api.id("location")))
        assert booked["invite_status"] == "queued"
        appointment_id = booked["id"]
        _wait(lambda: api.call("clerk", "GET", f"/appointments/{appointment_id}",
                               expect=200)["invite_status"] == "sent")
    (path,) = folder.iterdir()  # no partial file left behind
    assert path.name.startswith(f"{appointment_id}-") and path.suffix == ".eml"
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert message["To"] == "Ada Lovelace <ada@example.org>" and message["From"] == SENDER
    booked_id = UUID(appointment_id)
    email = newest_invite(folder, booked_id)
    assert email is not None and "Join your appointment" in email.html
    assert "http://127.0.0.1:9/join#" in email.text
    assert invite_files(folder, booked_id) == [path]


def test_a_folder_that_cannot_be_written_fails_the_invite_with_a_reason(
    tmp_path: Path, settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with TestClient(create_app(_pickup(settings, blocker), engine, clock)) as client:
        api = Api(client, clinic)
        booked = api.book("clerk", "ng", location_id=str(api.id("location")))

        def failed() -> bool:
            answer = api.call("clerk", "GET", f"/appointments/{booked['id']}", expect=200)
            return bool(answer["invite_status"] == "failed")

        _wait(failed)
        answer = api.call("clerk", "GET", f"/appointments/{booked['id']}", expect=200)
        assert "cannot write to the mail folder" in answer["invite_error"]


def test_a_pickup_folder_needs_a_from_address(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="smtp_from must be an email address"):
        Settings(**(settings.model_dump() | {"mail_pickup_dir": str(tmp_path)}))
