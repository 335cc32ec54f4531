"""`clinic-desk-server add-client`: the secret printed once, kept only as a hash, and usable."""

from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session

from server.app import create_app
from server.database import create_db_engine
from server.fhir.clients import find
from server.settings import Settings
from tests.server.server_process import run_cli


def test_add_client_prints_a_working_secret_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    added = run_cli(
        "add-client", "--database", url, "--client-id", "pas", "--name", "St Mary's PAS",
        "--scopes", "system/Appointment.rs system/Appointment.cu",
    )
    assert added.returncode == 0, added.stderr
    secret = added.stdout.rsplit(": ", 1)[1].strip()
    again = run_cli("add-client", "--database", url, "--client-id", "pas", "--scopes",
                    "system/Appointment.rs")
    assert again.returncode == 1 and "exists already" in again.stderr
    bad = run_cli("add-client", "--database", url, "--client-id", "x", "--scopes", "user/*.*")
    assert bad.returncode == 1 and "Unknown scope" in bad.stderr

    engine = create_db_engine(url)
    with Session(engine) as session:
        client = find(session, "pas")
        assert client is not None and secret not in client.secret_hash
    settings = Settings(
        database_url=url, secret_key=SecretStr("a test secret of at least thirty-two characters")
    )
    with TestClient(create_app(settings, engine)) as http:
        token = http.post(
            "/fhir/r4/token",
            data={"grant_type": "client_credentials", "scope": "system/Appointment.rs"},
            auth=("pas", secret),
        )
        assert token.status_code == 200, token.text
        assert token.json()["scope"] == "system/Appointment.rs"
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert http.get("/fhir/r4/Appointment", headers=bearer).json()["total"] == 0
    engine.dispose()
