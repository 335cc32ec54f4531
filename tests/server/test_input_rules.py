"""Text and email rules on every route that takes patient data: REST create, PATCH and sync."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.api_helpers import Api
from tests.server.conftest import Clinic
from tests.server.test_sync import Outbox

BAD_EMAILS = ["ok@example.org, other@attacker.example", "x@example.org\r\nBcc: y@example.net",
              "not an email"]


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_a_patient_email_is_one_address_everywhere(
    client: TestClient, clinic: Clinic, email: str
) -> None:
    api = Api(client, clinic)
    refused = api.call("clerk", "POST", "/patients", {"name": "Ann", "email": email}, expect=422)
    assert refused["fields"][0]["field"] == "body.email"
    path = f"/patients/{api.id('patient')}"
    refused = api.call("clerk", "PATCH", path, {"email": email, "base_version": 1}, expect=422)
    assert refused["fields"][0]["field"] == "body.email"
    outbox = Outbox(api, "clerk")
    [result] = outbox.push(outbox.mutation("patient.upsert", {"name": "Ann", "email": email}))
    assert (result["status"], result["reason"], result["fields"][0]["field"]) == (
        "rejected", "invalid", "email")
    assert api.call("clerk", "GET", path, expect=200)["email"] == "ada@example.org"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ann\r\nSmith"}, "body.name"),
        ({"name": "Ann", "mrn": "M\x00"}, "body.mrn"),
        ({"name": "Ann", "phone": "0207\t946"}, "body.phone"),
        ({"name": "Ann", "date_of_birth": "0001-01-01"}, "body.date_of_birth"),
    ],
)
def test_control_characters_and_far_dates_are_refused(
    client: TestClient, clinic: Clinic, body: dict[str, Any], field: str
) -> None:
    api = Api(client, clinic)
    refused = api.call("clerk", "POST", "/patients", body, expect=422)
    assert [f["field"] for f in refused["fields"]] == [field]


def test_notes_keep_their_line_breaks_but_nothing_else(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    booked = api.book("clerk", "ng", notes="Line one\nLine two")
    assert booked["notes"] == "Line one\nLine two"
    refused = api.call("clerk", "PATCH", f"/appointments/{booked['id']}",
                       {"notes": "bell\x07", "base_version": booked["version"]}, expect=422)
    assert refused["fields"][0]["field"] == "body.notes"
    task = {"assignee_id": str(api.id("ng")), "text": "Call back\x1b"}
    assert api.call("clerk", "POST", "/tasks", task, expect=422)["fields"][0]["field"] == (
        "body.text")


def test_patient_search_treats_percent_and_underscore_as_letters(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    api.call("clerk", "POST", "/patients", {"name": "Per_cent 100%"}, expect=201)
    assert api.call("clerk", "GET", "/patients?q=%25", expect=200)[0]["name"] == "Per_cent 100%"
    assert len(api.call("clerk", "GET", "/patients?q=%25", expect=200)) == 1
    assert len(api.call("clerk", "GET", "/patients?q=_", expect=200)) == 1
    assert api.call("clerk", "GET", "/patients?q=a_a", expect=200) == []  # not "Ada Lovelace"


def test_account_names_and_waiting_messages_refuse_control_characters(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    user = {"username": "lee", "full_name": "Dr Lee\r\nBcc: x", "role": "clinician",
            "password": "a long enough password"}
    refused = api.call("admin", "POST", "/users", user, expect=422)
    assert refused["fields"][0]["field"] == "body.full_name"
    path = f"/users/{api.id('ng')}"
    refused = api.call("admin", "PATCH", path, {"full_name": "Ng\x00"}, expect=422)
    assert refused["fields"][0]["field"] == "body.full_name"
    booked = api.book("clerk", "ng")
    message = f"/appointments/{booked['id']}/waiting-message"
    refused = api.call("ng", "POST", message, {"text": "Running late\x1b[2J"}, expect=422)
    assert refused["fields"][0]["field"] == "body.text"
