"""The access rules of server/security/access_rules.py that the permission table cannot show:
what a permitted list holds, an admin's own account, a task's appointment out of view."""

from fastapi.testclient import TestClient

from tests.server.api_helpers import Api
from tests.server.conftest import Clinic


def test_a_clerk_lists_only_their_own_assignments(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    other = {"clerk_id": str(api.id("clerk2")), "clinician_id": str(api.id("lee"))}
    api.call("admin", "POST", "/assignments", other, expect=201)
    mine = api.call("clerk", "GET", "/assignments", expect=200)
    assert mine == [{"clerk_id": str(api.id("clerk")), "clinician_id": str(api.id("ng"))}]
    everyone = api.call("admin", "GET", "/assignments", expect=200)
    assert {row["clerk_id"] for row in everyone} == {str(api.id("clerk")), str(api.id("clerk2"))}


def test_a_clinician_lists_the_delegations_they_are_part_of(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    unrelated = {"owner_id": str(api.id("lee")), "delegate_id": str(api.id("okafor"))}
    api.call("admin", "POST", "/delegations", unrelated, expect=201)
    ngs = api.call("ng", "GET", "/delegations", expect=200)
    assert ngs == [{"owner_id": str(api.id("okafor")), "delegate_id": str(api.id("ng"))}]
    lees = api.call("lee", "GET", "/delegations", expect=200)
    assert lees == [unrelated]
    assert len(api.call("admin", "GET", "/delegations", expect=200)) == 2


def test_an_admin_cannot_disable_or_demote_their_own_account(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    me = f"/users/{api.id('admin')}"
    for change in ({"is_active": False}, {"role": "clerk"}):
        refused = api.call("admin", "PATCH", me, change, expect=409)
        assert refused["code"] == "self_lockout"
    # Nothing changed, and other changes to one's own account go through.
    renamed = api.call("admin", "PATCH", me, {"full_name": "Head Admin"}, expect=200)
    assert (renamed["is_active"], renamed["role"], renamed["full_name"]) == (
        True,
        "admin",
        "Head Admin",
    )
    # Another admin's account may be disabled.
    other = api.call(
        "admin",
        "POST",
        "/users",
        {"username": "admin2", "full_name": "B", "role": "admin", "password": "x" * 12},
        expect=201,
    )
    api.call("admin", "PATCH", f"/users/{other['id']}", {"is_active": False}, expect=200)


def test_a_task_may_not_point_at_an_appointment_out_of_view(
    client: TestClient, clinic: Clinic
) -> None:
    api = Api(client, clinic)
    lees = str(api.id("lee_appointment"))
    body = {"assignee_id": str(api.id("clerk")), "text": "Letter", "appointment_id": lees}
    refused = api.call("clerk", "POST", "/tasks", body, expect=403)
    assert refused["message"] == "You may not see this appointment."
    body["appointment_id"] = str(api.id("ng_appointment"))
    api.call("clerk", "POST", "/tasks", body, expect=201)
