"""Every route, bad input: malformed JSON, wrong types, huge numbers, oversize bodies, unknown
query parameters. Each gets its precise status and the one JSON error body; nothing internal."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.server.api_helpers import Api
from tests.server.conftest import Clinic
from tests.server.test_permissions import ROWS, Row

#: The routes anyone may call, with a valid body, and those the permission table holds.
PUBLIC: list[tuple[str, str, Any]] = [
    ("GET", "/healthz", None),
    ("POST", "/auth/login", {"username": "ng", "password": "x"}),
    ("POST", "/auth/refresh", {"refresh_token": "x"}),
    ("POST", "/auth/logout", {"refresh_token": "x"}),
    ("POST", "/patient/join", {"token": "x"}),
]
_LEAKS = ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "SELECT ", "INSERT ", 'File "')
_HUGE = 10**30


def _user(row: Row) -> str:
    for role, user in (("clerk", "clerk"), ("clinician", "ng"), ("admin", "admin")):
        if role in row.allowed:
            return user
    raise AssertionError("no role may call this row")


def _targets(api: Api) -> list[tuple[str, str, Any, dict[str, str]]]:
    """(method, path, valid body, headers): one per route, called by a user it allows."""
    seen: set[tuple[str, str]] = set()
    targets: list[tuple[str, str, Any, dict[str, str]]] = [
        (method, path, body, {}) for method, path, body in PUBLIC
    ]
    for row in ROWS:
        if row.allowed and (row.method, row.route) not in seen:
            seen.add((row.method, row.route))
            path, body = row.prepare(api)
            targets.append((row.method, path, body, api.clinic.auth(_user(row))))
    return targets


def _check(response: Response, status: int, where: str) -> dict[str, Any]:
    assert response.status_code == status, f"{where}: {response.status_code} {response.text[:300]}"
    answer = response.json()
    assert set(answer) == {"code", "message", "fields"}, where
    assert all(leak not in response.text for leak in _LEAKS), f"{where}: {response.text[:300]}"
    return dict(answer)


def _wrong_types(body: Any) -> Any:
    """The same fields, each of a type no schema accepts."""
    return {name: {"nested": [[]]} for name in body}


def _huge_numbers(body: Any) -> Any:
    return {
        name: _HUGE if isinstance(value, int) and not isinstance(value, bool) else value
        for name, value in body.items()
    }


def test_every_route_refuses_bad_input(client: TestClient, clinic: Clinic) -> None:
    api = Api(client, clinic)
    targets = _targets(api)
    assert len(targets) == len(PUBLIC) + len({(r.method, r.route) for r in ROWS if r.allowed})
    json_headers = {"content-type": "application/json"}
    for method, path, body, headers in targets:
        where = f"{method} {path}"
        joiner = "&" if "?" in path else "?"
        unknown = client.request(method, f"{path}{joiner}bogus=1", json=body, headers=headers)
        assert _check(unknown, 422, where)["fields"] == [
            {"field": "query.bogus", "message": "Unknown query parameter."}
        ]
        big = client.request(method, path, content=b"[" * 1_100_000, headers=headers | json_headers)
        _check(big, 413, where)
        if body is None:
            continue
        for bad in (b"{not json", b'{"a": 1', b"", b"[" * 50_000):
            answer = client.request(method, path, content=bad, headers=headers | json_headers)
            _check(answer, 400 if bad.startswith(b"[[") else 422, f"{where} {bad[:10]!r}")
        answer = client.request(method, path, json=[body], headers=headers)
        _check(answer, 422, f"{where} (an array)")
        if isinstance(body, dict) and body:
            answer = client.request(method, path, json=_wrong_types(body), headers=headers)
            assert _check(answer, 422, f"{where} (wrong types)")["fields"], where
            if any(isinstance(v, int) and not isinstance(v, bool) for v in body.values()):
                answer = client.request(method, path, json=_huge_numbers(body), headers=headers)
                # An unknown protocol is 400 (docs/sync.md); a version from the future is a
                # conflict (409), like any version that is not the current one.
                status = 400 if "protocol" in body else 409 if "base_version" in body else 422
                _check(answer, status, f"{where} (huge numbers)")


@pytest.mark.parametrize(
    "query",
    [
        "/sync/pull?protocol=1&cursor=" + str(_HUGE),
        "/sync/pull?protocol=1&limit=abc",
        "/sync/pull?protocol=x",
        "/sync/pull",
        "/appointments?offset=" + str(_HUGE),
        "/appointments?start_from=yesterday",
        "/appointments?start_from=2026-11-26T08:00:00",  # no time zone
        "/appointments?clinician_id=nobody",
        "/patients?limit=-1",
        "/patients?q=" + "x" * 500,
        "/tasks?done=maybe",
    ],
)
def test_bad_query_values_are_422(client: TestClient, clinic: Clinic, query: str) -> None:
    answer = _check(client.get(query, headers=clinic.auth("ng")), 422, query)
    assert answer["fields"] and all(f["field"].startswith("query.") for f in answer["fields"])


def test_a_number_too_big_to_store_refuses_the_whole_push(
    client: TestClient, clinic: Clinic
) -> None:
    mutation = {
        "id": "6f1e4c1e-0000-4000-8000-000000000001",
        "seq": _HUGE,
        "intent": "appointment.update",
        "entity_id": str(clinic.ids["ng_appointment"]),
        "base_version": _HUGE,
        "payload": {"notes": "x"},
    }
    body = {"protocol": 1, "client_id": "6f1e4c1e-0000-4000-8000-000000000002"}
    answer = client.post(
        "/sync/push", json=body | {"mutations": [mutation]}, headers=clinic.auth("clerk")
    )
    fields = _check(answer, 422, "push")["fields"]
    assert {f["field"] for f in fields} == {"body.mutations.0.seq", "body.mutations.0.base_version"}
    assert json.dumps(_HUGE) not in answer.text
