"""The access log of a real `clinic-desk-server serve` keeps patient data out of its lines."""

from pathlib import Path

import httpx

from server.access_log import redact_target
from tests.server.server_process import LiveServer
from tests.sync.live_server import PASSWORD, seed_clinic


def test_query_values_are_redacted_and_names_kept() -> None:
    assert redact_target("/patients?q=MRN-99&limit=5") == (
        "/patients?q=[redacted]&limit=[redacted]"
    )
    assert redact_target("/healthz") == "/healthz"
    assert redact_target("/patients?Ada%20Lovelace") == "/patients?[redacted]=[redacted]"
    assert redact_target("/x?a=1&&b") == "/x?a=[redacted]&b=[redacted]"


def test_a_patient_search_leaves_no_trace_in_the_access_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    seed_clinic(url)
    server = LiveServer(url)
    server.start()
    try:
        login = httpx.post(
            f"{server.url}/auth/login", json={"username": "clerk", "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        found = httpx.get(
            f"{server.url}/patients", params={"q": "MRN-0042 Lovelace"}, headers=auth
        )
        assert found.status_code == 200
        listed = httpx.get(
            f"{server.url}/appointments",
            params={"start_from": "2026-11-26T08:00:00Z"},
            headers=auth,
        )
        assert listed.status_code == 200, listed.text
    finally:
        server.stop()
    log = server.output()
    server.close()
    assert '"GET /patients?q=[redacted] HTTP/1.1" 200' in log
    assert "/appointments?start_from=[redacted]" in log
    for secret in ("MRN-0042", "Lovelace", "2026-11-26"):
        assert secret not in log
