"""FHIR test helpers: a system client in the database and a bearer token from /fhir/r4/token."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from server.fhir.clients import add_client
from tests.server.conftest import NOW

ALL_SCOPES = "system/Appointment.cruds system/Patient.rs system/Practitioner.rs"


def client_secret(engine: Engine, client_id: str, scopes: str = ALL_SCOPES) -> str:
    with Session(engine) as session:
        secret = add_client(session, client_id, "Test PAS", scopes, NOW).secret
        session.commit()
    return secret


def fhir_auth(
    client: TestClient, engine: Engine, client_id: str = "pas", scopes: str = ALL_SCOPES
) -> dict[str, str]:
    secret = client_secret(engine, client_id, scopes)
    answer = client.post(
        "/fhir/r4/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
