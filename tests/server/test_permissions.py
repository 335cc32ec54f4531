"""Every endpoint, every role: who is let through, and a 401/403 for everyone else.

Roles: `admin`; `clerk` (assigned to Dr Ng only); `clinician` (Dr Ng, who sees Dr Okafor's
schedule by delegation); anonymous. Each row prepares its own target so rows do not interfere.
"""

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.server.api_helpers import Api, next_start
from tests.server.conftest import Clinic

ROLE_USERS = {"admin": "admin", "clerk": "clerk", "clinician": "ng", "anonymous": None}
ALL = frozenset({"admin", "clerk", "clinician"})
STAFF = frozenset({"clerk", "clinician"})
ADMIN = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()

_numbers = count(1)
Target = tuple[str, Any]  # (path, JSON body)
#: A phone call that does not exist (calls live only while they are on).
_NO_CALL = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the OpenAPI path template, to check that no route is left out
    name: str
    prepare: Callable[[Api], Target]
    allowed: frozenset[str]
    success: int = 200


def _fixed(path: str, body: Any = None) -> Callable[[Api], Target]:
    return lambda api: (path.format(**{k: str(v) for k, v in api.clinic.ids.items()}), body)


def _new_user(api: Api) -> Target:
    n = next(_numbers)
    body = {"username": f"u{n}", "full_name": "New", "role": "clerk", "password": "x" * 12}
    return "/users", body


def _new_patient_patch(api: Api) -> Target:
    created = api.call("clerk", "POST", "/patients", {"name": f"P{next(_numbers)}"}, expect=201)
    return f"/patients/{created['id']}", {"phone": "123", "base_version": 1}


def _booking(clinician: str) -> Callable[[Api], Target]:
    def prepare(api: Api) -> Target:
        body = {
            "patient_id": str(api.id("patient")),
            "clinician_id": str(api.id(clinician)),
            "start": next_start(),
            "duration_minutes": 10,
            "kind": "phone",
        }
        return "/appointments", body

    return prepare


def _ng_appointment_patch(api: Api) -> Target:
    booked = api.book("clerk", "ng")
    return f"/appointments/{booked['id']}", {"notes": "moved", "base_version": 1}


def _ng_appointment_cancel(api: Api) -> Target:
    booked = api.book("clerk", "ng")
    return f"/appointments/{booked['id']}/cancel", {"reason": "ill", "base_version": 1}


def _foreign_task(api: Api) -> Target:
    body = {"assignee_id": str(api.id("lee")), "text": "Call back"}
    task = api.call("clerk2", "POST", "/tasks", body, expect=201)
    return f"/tasks/{task['id']}", None


def _foreign_task_patch(api: Api) -> Target:
    path, _ = _foreign_task(api)
    return path, {"done": True, "base_version": 1}


def _shared_task(api: Api) -> Target:
    body = {"assignee_id": str(api.id("ng")), "text": "Letter"}
    task = api.call("clerk", "POST", "/tasks", body, expect=201)
    return f"/tasks/{task['id']}", None


def _shared_task_patch(api: Api) -> Target:
    path, _ = _shared_task(api)
    return path, {"done": True, "base_version": 1}


def _new_task(api: Api) -> Target:
    return "/tasks", {"assignee_id": str(api.id("ng")), "text": "Ring the GP"}


def _push(api: Api) -> Target:
    mutation = {
        "id": str(uuid4()),
        "seq": 1,
        "intent": "patient.upsert",
        "entity_id": str(uuid4()),
        "payload": {"name": "Pushed"},
    }
    return "/sync/push", {"protocol": 1, "client_id": str(uuid4()), "mutations": [mutation]}


def _new_assignment(api: Api) -> Target:
    return "/assignments", {"clerk_id": str(api.id("clerk2")), "clinician_id": str(api.id("lee"))}


def _assignment_to_delete(api: Api) -> Target:
    api.call("admin", "POST", "/assignments", _new_assignment(api)[1])
    return f"/assignments/{api.id('clerk2')}/{api.id('lee')}", None


def _new_delegation(api: Api) -> Target:
    return "/delegations", {"owner_id": str(api.id("lee")), "delegate_id": str(api.id("okafor"))}


def _delegation_to_delete(api: Api) -> Target:
    api.call("admin", "POST", "/delegations", _new_delegation(api)[1])
    return f"/delegations/{api.id('lee')}/{api.id('okafor')}", None


def _new_location(api: Api) -> Target:
    return "/locations", {"hospital_name": f"Site {next(_numbers)}", "time_zone": "Europe/Paris"}


ROWS = [
    Row("GET", "/users/me", "own account", _fixed("/users/me"), ALL),
    Row("GET", "/users", "user list", _fixed("/users"), ADMIN),
    Row("GET", "/users/staff", "staff directory", _fixed("/users/staff"), STAFF),
    Row("GET", "/calls/ice-servers", "STUN/TURN for calls", _fixed("/calls/ice-servers"), STAFF),
    Row(
        "GET",
        "/calls/{appointment_id}/ice-servers",
        "a visible call's ICE servers",
        _fixed("/calls/{okafor_appointment}/ice-servers"),
        STAFF - {"clerk"},
    ),
    Row(
        "GET",
        "/calls/{appointment_id}/ice-servers",
        "an unrelated call's ICE servers",
        _fixed("/calls/{lee_appointment}/ice-servers"),
        NOBODY,
    ),
    Row("POST", "/users", "create user", _new_user, ADMIN, 201),
    Row("GET", "/users/{user_id}", "one user", _fixed("/users/{ng}"), ADMIN),
    Row(
        "PATCH",
        "/users/{user_id}",
        "change user",
        _fixed("/users/{lee}", {"full_name": "L"}),
        ADMIN,
    ),
    Row("GET", "/locations", "location list", _fixed("/locations"), ALL),
    Row("GET", "/locations/{location_id}", "one location", _fixed("/locations/{location}"), ALL),
    Row("POST", "/locations", "create location", _new_location, ADMIN, 201),
    Row(
        "PATCH",
        "/locations/{location_id}",
        "change location",
        _fixed("/locations/{location}", {"address": "x"}),
        ADMIN,
    ),
    Row("GET", "/assignments", "assignment list", _fixed("/assignments"), ADMIN | {"clerk"}),
    Row("POST", "/assignments", "create assignment", _new_assignment, ADMIN, 201),
    Row(
        "DELETE",
        "/assignments/{clerk_id}/{clinician_id}",
        "remove assignment",
        _assignment_to_delete,
        ADMIN,
        204,
    ),
    Row("GET", "/delegations", "delegation list", _fixed("/delegations"), ADMIN | {"clinician"}),
    Row("POST", "/delegations", "create delegation", _new_delegation, ADMIN, 201),
    Row(
        "DELETE",
        "/delegations/{owner_id}/{delegate_id}",
        "remove delegation",
        _delegation_to_delete,
        ADMIN,
        204,
    ),
    Row("GET", "/patients", "patient search", _fixed("/patients?q=ada"), STAFF),
    Row("GET", "/patients/{patient_id}", "one patient", _fixed("/patients/{patient}"), STAFF),
    Row("POST", "/patients", "register patient", _fixed("/patients", {"name": "Bo"}), STAFF, 201),
    Row("PATCH", "/patients/{patient_id}", "correct patient", _new_patient_patch, STAFF),
    Row("GET", "/appointments", "appointment list", _fixed("/appointments"), STAFF),
    Row(
        "GET",
        "/appointments",
        "unrelated schedule",
        _fixed("/appointments?clinician_id={lee}"),
        NOBODY,
    ),
    Row(
        "GET",
        "/appointments/{appointment_id}",
        "own clinician's appointment",
        _fixed("/appointments/{ng_appointment}"),
        STAFF,
    ),
    Row(
        "GET",
        "/appointments/{appointment_id}",
        "delegated clinician's appointment",
        _fixed("/appointments/{okafor_appointment}"),
        frozenset({"clinician"}),
    ),
    Row(
        "GET",
        "/appointments/{appointment_id}",
        "unrelated appointment",
        _fixed("/appointments/{lee_appointment}"),
        NOBODY,
    ),
    Row("POST", "/appointments", "book for own clinician", _booking("ng"), STAFF, 201),
    Row("POST", "/appointments", "book for a delegated clinician", _booking("okafor"), NOBODY),
    Row("POST", "/appointments", "book for an unrelated clinician", _booking("lee"), NOBODY),
    Row(
        "PATCH",
        "/appointments/{appointment_id}",
        "change own clinician's booking",
        _ng_appointment_patch,
        STAFF,
    ),
    Row(
        "PATCH",
        "/appointments/{appointment_id}",
        "change delegated clinician's booking",
        _fixed("/appointments/{okafor_appointment}", {"notes": "x", "base_version": 1}),
        NOBODY,
    ),
    Row(
        "POST",
        "/appointments/{appointment_id}/cancel",
        "cancel own clinician's booking",
        _ng_appointment_cancel,
        STAFF,
    ),
    Row(
        "POST",
        "/appointments/{appointment_id}/cancel",
        "cancel unrelated booking",
        _fixed("/appointments/{lee_appointment}/cancel", {"reason": "x", "base_version": 1}),
        NOBODY,
    ),
    Row("GET", "/tasks", "task list", _fixed("/tasks"), STAFF),
    Row("POST", "/tasks", "create task", _new_task, STAFF, 201),
    Row("GET", "/tasks/{task_id}", "task of one's own", _shared_task, STAFF),
    Row("GET", "/tasks/{task_id}", "someone else's task", _foreign_task, NOBODY),
    Row("PATCH", "/tasks/{task_id}", "change someone else's task", _foreign_task_patch, NOBODY),
    Row("PATCH", "/tasks/{task_id}", "finish one's own task", _shared_task_patch, STAFF),
    Row("GET", "/audit-events", "audit log", _fixed("/audit-events"), ADMIN),
    Row("GET", "/hl7/messages", "HL7 message log", _fixed("/hl7/messages"), ADMIN),
    # Nothing is logged in this app: a permitted replay finds no message (tests/server/
    # test_hl7_mllp.py replays a real one).
    Row(
        "POST",
        "/hl7/messages/{message_id}/replay",
        "replay an HL7 message",
        _fixed("/hl7/messages/999999/replay"),
        ADMIN,
        404,
    ),
    Row("GET", "/hl7/outbound", "outbound HL7 queue", _fixed("/hl7/outbound"), ADMIN),
    # Nothing is queued in this app: a permitted resend finds no message (tests/server/
    # test_hl7_outbound.py resends a real one).
    Row(
        "POST",
        "/hl7/outbound/{message_id}/resend",
        "send a refused HL7 message again",
        _fixed("/hl7/outbound/999999/resend"),
        ADMIN,
        404,
    ),
    Row("POST", "/sync/push", "push changes", _push, STAFF),
    Row("GET", "/sync/pull", "pull changes", _fixed("/sync/pull?protocol=1"), STAFF),
    # This app has no SMTP server: a permitted resend is refused 409 invites_off (a 202 with
    # one is tests/server/test_invites.py's).
    Row(
        "POST",
        "/appointments/{appointment_id}/invites",
        "resend invites of a visible booking",
        _fixed("/appointments/{okafor_appointment}/invites"),
        STAFF - {"clerk"},
        409,
    ),
    Row(
        "POST",
        "/appointments/{appointment_id}/patient-link",
        "copy a patient link",
        _fixed("/appointments/{ng_appointment}/patient-link", {"recipient": 0}),
        STAFF,
        201,
    ),
    Row(
        "POST",
        "/appointments/{appointment_id}/patient-link",
        "copy a patient link of an unrelated booking",
        _fixed("/appointments/{lee_appointment}/patient-link", {"recipient": 0}),
        NOBODY,
    ),
    Row(
        "POST",
        "/appointments/{appointment_id}/waiting-message",
        "message the waiting patient",
        _fixed("/appointments/{ng_appointment}/waiting-message", {"text": "Running late"}),
        STAFF,
        202,
    ),
    # Past the role and scope checks, a video appointment has no group call: 409 not_group.
    Row(
        "POST",
        "/appointments/{appointment_id}/group-call",
        "join a group call",
        _fixed("/appointments/{ng_appointment}/group-call"),
        STAFF,
        409,
    ),
    Row(
        "POST",
        "/appointments/{appointment_id}/group-call",
        "join the group call of an unrelated booking",
        _fixed("/appointments/{lee_appointment}/group-call"),
        NOBODY,
    ),
    Row(
        "POST",
        "/appointments/{appointment_id}/phone-call",
        "ring the patient's phone",
        _fixed("/appointments/{ng_appointment}/phone-call", {"sdp": "v=0 an offer"}),
        STAFF,
        409,
    ),
    Row(
        "POST",
        "/appointments/{appointment_id}/phone-call",
        "ring the phone of an unrelated booking's patient",
        _fixed("/appointments/{lee_appointment}/phone-call", {"sdp": "v=0 an offer"}),
        NOBODY,
    ),
    Row("GET", "/appointments/{appointment_id}/phone-attempts", "list the calls to the phone",
        _fixed("/appointments/{ng_appointment}/phone-attempts"), STAFF),
    Row("GET", "/appointments/{appointment_id}/phone-attempts",
        "list the calls to an unrelated booking's phone",
        _fixed("/appointments/{lee_appointment}/phone-attempts"), NOBODY),
    Row("GET", "/phone-calls/{call_id}/events", "follow a phone call",
        _fixed(f"/phone-calls/{_NO_CALL}/events"), STAFF, 404),
    Row("POST", "/phone-calls/{call_id}/hangup", "hang up a phone call",
        _fixed(f"/phone-calls/{_NO_CALL}/hangup"), STAFF, 404),
    Row("POST", "/phone-calls/{call_id}/keys", "send keys to a phone call",
        _fixed(f"/phone-calls/{_NO_CALL}/keys", {"digits": "1"}), STAFF, 404),
    Row("POST", "/phone-calls/{call_id}/hold", "hold a phone call",
        _fixed(f"/phone-calls/{_NO_CALL}/hold", {"hold": True}), STAFF, 404),
]
# The clinician's controls of a group call: the same scope; a video appointment is 409.
_CONTROLS = {
    "/appointments/{appointment_id}/group-call/participants/{participant}/mute": (
        "participants/guest-1/mute", {"muted": True}),
    "/appointments/{appointment_id}/group-call/participants/{participant}/remove": (
        "participants/guest-1/remove", None),
    "/appointments/{appointment_id}/group-call/lock": ("lock", {"locked": True}),
    "/appointments/{appointment_id}/group-call/end": ("end", None),
    "/appointments/{appointment_id}/group-call/admit": ("admit", {"participants": ["guest-1"]}),
    "/appointments/{appointment_id}/group-call/waiting": ("waiting", None),
}
for _route, (_path, _body) in _CONTROLS.items():
    _method = "GET" if _path == "waiting" else "POST"
    ROWS += [
        Row(_method, _route, f"group call control {_path}",
            _fixed("/appointments/{ng_appointment}/group-call/" + _path, _body), STAFF, 409),
        Row(_method, _route, f"group call control {_path} of an unrelated booking",
            _fixed("/appointments/{lee_appointment}/group-call/" + _path, _body), NOBODY),
    ]


def test_the_table_covers_every_route(client: TestClient) -> None:
    # The patient's routes carry their link's token in the body (no account).
    public = {
        "/healthz",
        "/readyz",
        "/auth/login",
        "/auth/refresh",
        "/auth/logout",
        "/patient/join",
        "/patient/group-call",
    }
    schema = client.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method in methods
        if path not in public
    }
    assert routes == {(row.method, row.route) for row in ROWS}


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_each_endpoint_allows_exactly_its_roles(
    client: TestClient, clinic: Clinic, role: str
) -> None:
    api = Api(client, clinic)
    user = ROLE_USERS[role]
    wrong: list[str] = []
    for row in ROWS:
        path, body = row.prepare(api)
        headers = clinic.auth(user) if user else {}
        response = client.request(row.method, path, json=body, headers=headers)
        if role in row.allowed:
            expected = row.success
        else:
            expected = 401 if user is None else 403
        if response.status_code != expected:
            wrong.append(
                f"{row.name} ({row.method} {path}): {response.status_code}, "
                f"expected {expected}: {response.text[:200]}"
            )
        elif expected in (401, 403):
            assert response.json()["code"] == (
                "unauthenticated" if expected == 401 else "forbidden"
            )
    assert not wrong, "\n".join(wrong)
