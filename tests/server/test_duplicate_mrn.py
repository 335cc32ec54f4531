"""One patient per MRN: registering or correcting a patient to an MRN another holds is refused
with a sentence naming who holds it, over REST and through the sync alike."""

from fastapi.testclient import TestClient

from tests.server.api_helpers import Api
from tests.server.conftest import Clinic
from tests.server.test_sync import Outbox

HELD = ("MRN MRN1 is already registered to Ada Lovelace: a patient is registered once. "
        "Search for them instead, or correct the MRN.")


def test_a_second_patient_with_a_taken_mrn_is_refused(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    refused = api.call("clerk", "POST", "/patients", {"name": "Ada Byron", "mrn": "MRN1"},
                       expect=409)
    assert refused == {"code": "duplicate_mrn", "message": HELD,
                       "fields": [{"field": "mrn", "message": HELD}]}
    alan = api.call("clerk", "POST", "/patients", {"name": "Alan Turing", "mrn": "MRN2"},
                    expect=201)
    moved = api.call("ng", "PATCH", f"/patients/{alan['id']}",
                     {"mrn": "MRN1", "base_version": 1}, expect=409)
    assert moved["code"] == "duplicate_mrn"
    # Keeping one's own MRN, or having none, is no duplicate.
    api.call("ng", "PATCH", f"/patients/{alan['id']}",
             {"mrn": "MRN2", "phone": "+44 1", "base_version": 1}, expect=200)
    for name in ("No MRN One", "No MRN Two"):
        api.call("clerk", "POST", "/patients", {"name": name}, expect=201)


def test_the_sync_refuses_a_duplicate_mrn_once_and_for_good(
    client: TestClient, clinic: Clinic
) -> None:
    outbox = Outbox(Api(client, clinic), "clerk")
    [answer] = outbox.push(outbox.mutation("patient.upsert", {"name": "Ada Byron",
                                                              "mrn": "MRN1"}))
    # Decided, so stored and not retried: "invalid", the finer code, and the sentence.
    assert (answer["status"], answer["reason"], answer["code"]) == (
        "rejected", "invalid", "duplicate_mrn")
    assert answer["message"] == HELD
