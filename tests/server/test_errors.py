"""Bad requests get precise statuses and one JSON shape; nothing internal leaks; /healthz."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from server.app import create_app
from server.database import create_db_engine
from server.settings import Settings
from shared.clock import FixedClock
from tests.server.conftest import Clinic
from tests.server.postgres import free_port


def test_unknown_route_and_method(client: TestClient) -> None:
    missing = client.get("/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "message": "Not Found", "fields": []}
    wrong = client.put("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


def test_malformed_json_is_422(client: TestClient, clinic: Clinic) -> None:
    response = client.post(
        "/patients",
        content=b"{not json",
        headers=clinic.auth("clerk") | {"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_bad_path_parameter_is_422(client: TestClient, clinic: Clinic) -> None:
    response = client.get("/patients/not-a-uuid", headers=clinic.auth("clerk"))
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "path.patient_id"


def test_too_large_body_is_413(client: TestClient, clinic: Clinic) -> None:
    big = {"name": "x" * 1_100_000}
    response = client.post("/patients", json=big, headers=clinic.auth("clerk"))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_too_large_body_without_length_is_413(client: TestClient, clinic: Clinic) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 100_000

    response = client.post(
        "/patients",
        content=chunks(),
        headers=clinic.auth("clerk") | {"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_unexpected_errors_say_nothing_internal(app: FastAPI, clinic: Clinic) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM patient")

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal",
        "message": "Something went wrong on the server.",
        "fields": [],
    }


def test_healthz_and_openapi(client: TestClient, engine: Engine) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/appointments" in schema.json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_healthz_reports_an_unreachable_database(clock: FixedClock) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    settings = Settings(database_url=url, secret_key=SecretStr("s" * 32))
    app = create_app(settings, create_db_engine(url), clock)
    client = TestClient(app)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    # Readiness, for a balancer: not ready, and why.
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "reason": "the database does not answer"}


def test_readyz_answers_ready(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}
