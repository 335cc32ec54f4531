"""The OpenAPI schema tells the truth: every answer a sample of real requests gets (anonymous,
each role, a made-up record, an unknown query parameter, oversized and unreadable bodies, and
the permission table's valid calls) is listed for its operation, and every error answer has the
schema's error body."""

import json
import uuid
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.server.api_helpers import Api
from tests.server.conftest import Clinic
from tests.server.test_permissions import ROLE_USERS, ROWS

_USERS = [user for user in ROLE_USERS.values() if user]


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def _made_up(path: str) -> str:
    """The path with a random id in each parameter: a record that does not exist."""
    parts = [
        str(uuid.uuid4()) if part.startswith("{") else part for part in path.split("/")
    ]
    return "/".join(parts)


def _error_body(schema: dict[str, Any]) -> set[str]:
    return set(schema["components"]["schemas"]["ErrorBody"]["properties"])


class Checker:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.wrong: list[str] = []
        self.seen = 0

    def check(self, operation: dict[str, Any], where: str, response: Response) -> None:
        self.seen += 1
        status = str(response.status_code)
        declared = operation["responses"]
        if status not in declared:
            self.wrong.append(f"{where}: {status} is not declared ({sorted(declared)})")
            return
        if response.status_code < 400:
            return
        content = declared[status].get("content", {}).get("application/json", {})
        if content.get("schema") != {"$ref": "#/components/schemas/ErrorBody"}:
            self.wrong.append(f"{where}: {status} is declared without the error body")
        if set(response.json()) != _error_body(self.schema):
            self.wrong.append(f"{where}: {status} answered {response.text[:120]}")


def test_every_answer_is_declared_with_its_body(client: TestClient, clinic: Clinic) -> None:
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    checker = Checker(schema)
    operations = {(method, path): operation for method, path, operation in _operations(schema)}
    json_type = {"content-type": "application/json"}
    for (method, path), operation in operations.items():
        target = _made_up(path)
        body: dict[str, Any] | None = {} if "requestBody" in operation else None
        checker.check(operation, f"{method} {path} anonymous",
                      client.request(method, target, json=body))
        for user in _USERS:
            answer = client.request(method, target, json=body, headers=clinic.auth(user))
            checker.check(operation, f"{method} {path} as {user}", answer)
        unknown = client.request(method, f"{target}?bogus=1", json=body)
        checker.check(operation, f"{method} {path} ?bogus", unknown)
        big = client.request(method, target, content=b"[" * 1_100_000, headers=json_type)
        checker.check(operation, f"{method} {path} oversized", big)
        if body is not None:
            for user in _USERS:
                deep = client.request(
                    method, target, content=b"[" * 50_000, headers=json_type | clinic.auth(user)
                )
                checker.check(operation, f"{method} {path} nested as {user}", deep)
                broken = client.request(
                    method, target, content=b"{not json", headers=json_type | clinic.auth(user)
                )
                checker.check(operation, f"{method} {path} broken as {user}", broken)
    api = Api(client, clinic)
    for row in ROWS:
        operation = operations[(row.method, row.route)]
        for user in _USERS:
            path, body = row.prepare(api)
            answer = client.request(row.method, path, json=body, headers=clinic.auth(user))
            checker.check(operation, f"{row.name} as {user}", answer)
    assert not checker.wrong, "\n".join(checker.wrong)
    assert checker.seen > 500
    json.dumps(schema)  # the schema is plain JSON
