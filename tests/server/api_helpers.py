"""Small helpers that make the server tests read like what a client does."""

import itertools
from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from tests.server.conftest import TOMORROW_9, Clinic

_slots = itertools.count(1)


def next_start() -> str:
    """A fresh quarter-hour slot tomorrow afternoon, different on every call."""
    return (TOMORROW_9 + timedelta(hours=4, minutes=15 * next(_slots))).isoformat()


class Api:
    """Calls the API as a named user of the seeded clinic and checks the status."""

    def __init__(self, client: TestClient, clinic: Clinic) -> None:
        self.client = client
        self.clinic = clinic

    def call(
        self, user: str | None, method: str, path: str, json: Any = None, expect: int | None = None
    ) -> Any:
        headers = self.clinic.auth(user) if user else {}
        response = self.client.request(method, path, json=json, headers=headers)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def book(self, user: str, clinician: str, **fields: Any) -> dict[str, Any]:
        body = {
            "patient_id": str(self.clinic.ids["patient"]),
            "clinician_id": str(self.clinic.ids[clinician]),
            "start": next_start(),
            "duration_minutes": 15,
            "kind": "video",
        } | fields
        answer: dict[str, Any] = self.call(user, "POST", "/appointments", body, expect=201)
        return answer

    def id(self, name: str) -> UUID:
        return self.clinic.ids[name]
