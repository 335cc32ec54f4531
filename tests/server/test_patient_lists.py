"""The clinic's patient lists through the sync: created, renamed and refilled by clinicians and
clerks, seen by all of them, merged field by field, checked and audited."""

from uuid import uuid4

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.models.audit import AuditEvent
from tests.server.api_helpers import Api
from tests.server.conftest import Clinic
from tests.server.test_sync import Outbox


def pull_lists(api: Api, user: str) -> list[dict[str, object]]:
    page = api.call(user, "GET", "/sync/pull?protocol=1&cursor=0", expect=200)
    return [c["data"] for c in page["changes"] if c["type"] == "patient_list"]


def test_a_list_is_shared_merged_and_audited(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    api = Api(client, clinic)
    ada = str(api.id("patient"))
    alan = api.call("clerk", "POST", "/patients", {"name": "Alan Turing"}, expect=201)["id"]
    clerk = Outbox(api, "clerk")
    list_id = uuid4()
    [made] = clerk.push(clerk.mutation(
        "patient_list.upsert", {"name": "Diabetes review Q1", "patient_ids": [ada]}, list_id))
    assert (made["status"], made["version"]) == ("applied", 1)

    # Every clinician sees it, not only its maker.
    [seen] = pull_lists(api, "ng")
    assert (seen["name"], seen["patient_ids"], seen["version"]) == (
        "Diabetes review Q1", [ada], 1)

    # Two edits of version 1: a rename and new members touch different fields, both apply.
    ng = Outbox(api, "ng")
    [renamed] = ng.push(ng.mutation("patient_list.upsert", {"name": "Diabetes Q1"}, list_id, 1))
    [refilled] = clerk.push(clerk.mutation(
        "patient_list.upsert", {"patient_ids": [alan, ada]}, list_id, 1))
    assert renamed["status"] == refilled["status"] == "applied"
    [merged] = pull_lists(api, "clerk")
    assert (merged["name"], merged["patient_ids"]) == ("Diabetes Q1", [alan, ada])
    # Members changed on both sides since version 2: refused naming the field.
    [stale] = ng.push(ng.mutation("patient_list.upsert", {"patient_ids": []}, list_id, 2))
    assert (stale["status"], stale["reason"]) == ("rejected", "stale_version")

    with Session(engine) as session:
        actions = session.exec(select(AuditEvent.action).where(
            AuditEvent.entity_type == "patient_list")).all()
    assert sorted(actions) == ["patient_list.create", "patient_list.update",
                               "patient_list.update"]

    # Deleted: kept (archived) for the audit trail, every desktop told; brought back the same way.
    [deleted] = ng.push(ng.mutation("patient_list.upsert", {"archived": True}, list_id, 3))
    assert (deleted["status"], deleted["version"]) == ("applied", 4)
    [gone] = pull_lists(api, "clerk")
    assert (gone["archived"], gone["name"]) == (True, "Diabetes Q1")
    [back] = clerk.push(clerk.mutation("patient_list.upsert", {"archived": False}, list_id, 4))
    assert back["status"] == "applied"
    assert pull_lists(api, "ng")[0]["archived"] is False
    with Session(engine) as session:
        actions = session.exec(select(AuditEvent.action).where(
            AuditEvent.entity_type == "patient_list")).all()
    assert {"patient_list.delete", "patient_list.restore"} <= set(actions)

    # A list made and deleted offline arrives deleted.
    [offline] = clerk.push(clerk.mutation(
        "patient_list.upsert", {"name": "Scratch", "patient_ids": [], "archived": True}, uuid4()))
    assert offline["status"] == "applied"
    assert [s["archived"] for s in pull_lists(api, "ng") if s["name"] == "Scratch"] == [True]


def test_bad_lists_are_refused_with_a_reason(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    outbox = Outbox(api, "clerk")
    ada = str(api.id("patient"))
    unknown, twice, nameless = outbox.push(
        outbox.mutation("patient_list.upsert", {"name": "X", "patient_ids": [str(uuid4())]}),
        outbox.mutation("patient_list.upsert", {"name": "X", "patient_ids": [ada, ada]}),
        outbox.mutation("patient_list.upsert", {"name": "", "patient_ids": []}),
    )
    assert unknown["reason"] == "invalid"
    assert unknown["message"] == "A patient on this list does not exist."
    assert twice["reason"] == "invalid" and "once" in twice["fields"][0]["message"]
    assert nameless["reason"] == "invalid"
