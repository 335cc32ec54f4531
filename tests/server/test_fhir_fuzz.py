"""Fuzzing the FHIR endpoints (hypothesis): every input is answered 2xx or a 4xx
OperationOutcome, never a 500, and nothing half-booked is left. SQLite; quick for CI."""

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from server.models.appointment import Appointment
from tests.server.conftest import Clinic
from tests.server.fhir_helpers import fhir_auth

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NASTY = st.sampled_from([
    "'; DROP TABLE appointment; --", "<script>alert(1)</script>", "ge", "eq2026-13-01",
    "2026-11-27T25:00:00Z", "9999-12-31", "0001-01-01", "Patient/", "Practitioner/x",
    "\x00", "ñandú 漢字", "-1", "9" * 40, "booked,nonsense", "%_%", "|", "",
])
TEXT = st.one_of(NASTY, st.text(max_size=30))
PARAM = st.sampled_from([
    "date", "patient", "practitioner", "status", "_lastUpdated", "_count", "_offset",
    "identifier", "colour",
])
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)


def _booking(clinic: Clinic) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-11-27T15:00:00+00:00",
        "end": "2026-11-27T15:30:00+00:00",
        "participant": [
            {"actor": {"reference": f"Patient/{clinic.ids['patient']}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{clinic.ids['ng']}"}, "status": "accepted"},
        ],
    }


def _answered(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        body = answer.json()
        assert body["resourceType"] == "OperationOutcome" and body["issue"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_fuzzed_requests_get_an_answer(
    client: TestClient, engine: Engine, clinic: Clinic
) -> None:
    auth = fhir_auth(client, engine)
    booked_before = _count(engine)

    @FUZZ
    @given(
        params=st.lists(st.tuples(PARAM, TEXT), max_size=4),
        field=st.sampled_from(["status", "start", "end", "participant", "identifier",
                               "comment", "minutesDuration", "appointmentType", "id"]),
        value=JSON_VALUE,
        path=TEXT,
    )
    def probe(params: list[tuple[str, str]], field: str, value: Any, path: str) -> None:
        _answered(client.get("/fhir/r4/Appointment", params=params, headers=auth))
        segment = quote(path, safe="")
        _answered(client.get(f"/fhir/r4/Appointment/{segment}x", headers=auth))
        body = _booking(clinic) | {field: value}
        created = client.post("/fhir/r4/Appointment", json=body, headers=auth)
        _answered(created)
        if created.status_code == 201:  # a valid one may pass: take it back out of the way
            resource = created.json() | {"status": "cancelled"}
            cancelled = client.put(
                f"/fhir/r4/Appointment/{resource['id']}", json=resource, headers=auth
            )
            assert cancelled.status_code == 200, cancelled.text

    probe()
    with Session(engine) as session:
        live = session.exec(
            select(func.count()).select_from(Appointment).where(Appointment.status == "scheduled")
        ).one()
    assert live == booked_before


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count()).select_from(Appointment).where(Appointment.status == "scheduled")
        ).one()
