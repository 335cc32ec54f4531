"""Per-call TURN credentials (coturn's use-auth-secret scheme) and the call's transport policy."""

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from server.services.call_ice import call_valid_until, ice_servers_for_call, turn_credential
from server.settings import IceServerSetting, Settings
from tests.server.conftest import NOW, TOMORROW_9, Clinic, sqlite_database

SECRET = "coturn-static-auth-secret-for-tests"
TURN_URLS = [
    "turn:turn.hospital.example:3478?transport=udp",
    "turn:turn.hospital.example:3478?transport=tcp",
    "turns:turn.hospital.example:443?transport=tcp",
]


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: nothing here depends on the database kind."""
    yield sqlite_database(tmp_path)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, argon2_time_cost=1, argon2_memory_kib=8,
        # The clinic fixture signs sessions before any app could make a secret.
        secret_key=SecretStr("a test secret of at least thirty-two characters"),
        argon2_parallelism=1, turn_urls=TURN_URLS, turn_secret=SecretStr(SECRET),
        turn_overrun_minutes=30, ice_relay_only=True,
        ice_servers=[IceServerSetting(urls=["stun:stun.hospital.example:3478"])],
    )


def test_the_credential_is_coturns_hmac_of_expiry_and_call() -> None:
    expires = datetime(2026, 11, 27, 10, 0, tzinfo=NOW.tzinfo)
    username, password = turn_credential(SECRET, "call-1", expires)
    assert username == f"{int(expires.timestamp())}:call-1" == "1795773600:call-1"
    expected = hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(password) == expected
    assert turn_credential("another secret", "call-1", expires)[1] != password


def test_a_call_gets_credentials_for_its_length(
    client: TestClient, clinic: Clinic, settings: Settings
) -> None:
    appointment = clinic.ids["ng_appointment"]  # tomorrow 9:00, 20 minutes
    response = client.get(f"/calls/{appointment}/ice-servers", headers=clinic.auth("ng"))
    assert response.status_code == 200, response.text
    body = response.json()
    until = TOMORROW_9 + timedelta(minutes=20 + 30)
    assert datetime.fromisoformat(body["expires_at"]) == until
    minted, static = body["ice_servers"]
    assert minted["urls"] == TURN_URLS  # UDP, TCP, TLS: the order clients try them
    assert minted["username"] == f"{int(until.timestamp())}:{appointment}"
    assert minted["credential"] == turn_credential(SECRET, str(appointment), until)[1]
    assert static == {"urls": ["stun:stun.hospital.example:3478"], "username": "",
                      "credential": ""}
    assert body["ice_transport_policy"] == "relay"
    assert SECRET not in response.text

    missing = client.get("/calls/00000000-0000-0000-0000-000000000000/ice-servers",
                         headers=clinic.auth("ng"))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    foreign = client.get(f"/calls/{clinic.ids['lee_appointment']}/ice-servers",
                         headers=clinic.auth("ng"))
    assert foreign.status_code == 403


def test_a_late_call_still_gets_the_overrun(settings: Settings) -> None:
    booked_end = NOW - timedelta(hours=3)  # the clinician calls three hours late
    assert call_valid_until(settings, booked_end, NOW) == NOW + timedelta(minutes=30)
    assert call_valid_until(settings, NOW + timedelta(hours=1), NOW) == NOW + timedelta(
        minutes=90)


def test_without_turn_urls_the_static_servers_go_as_they_are(database_url: str) -> None:
    plain = Settings(database_url=database_url,
                     ice_servers=[IceServerSetting(urls=["stun:stun.hospital.example"])])
    ice = ice_servers_for_call(plain, "call-1", NOW)
    assert [s.urls for s in ice.ice_servers] == [["stun:stun.hospital.example"]]
    assert ice.expires_at is None and ice.ice_transport_policy == "all"


def test_turn_settings_that_cannot_work_are_refused(database_url: str) -> None:
    with pytest.raises(ValidationError, match="turn_urls need turn_secret"):
        Settings(database_url=database_url, turn_urls=TURN_URLS)
    with pytest.raises(ValidationError, match="at least 32 random characters in production"):
        Settings(database_url=database_url, environment="production",
                 secret_key=SecretStr("s" * 40), public_url="https://cd.example.org",
                 turn_urls=TURN_URLS,
                 turn_secret=SecretStr("x" * 20))
    with pytest.raises(ValidationError, match="is not a turn: or turns: URL"):
        Settings(database_url=database_url, turn_urls=["stun:turn.example.org"],
                 turn_secret=SecretStr(SECRET))
    with pytest.raises(ValidationError, match="ice_relay_only needs a TURN server"):
        Settings(database_url=database_url, ice_relay_only=True,
                 ice_servers=[IceServerSetting(urls=["stun:stun.example.org"])])
