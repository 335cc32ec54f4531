"""Settings: environment prefix, optional TOML file, and no default secret in production."""

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from server.security.secret_file import load_or_create, secret_path, with_secret
from server.settings import ConfigFileMissing, Settings, load_settings


def test_development_needs_no_secret_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINIC_DESK_CONFIG", raising=False)
    monkeypatch.setenv("CLINIC_DESK_SECRET_KEY", "")  # empty is "not configured"
    settings = load_settings()
    assert settings.environment == "development"
    assert settings.secret_key is None
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("server.sqlite3")


def test_a_generated_secret_is_kept_beside_the_database_for_its_owner_only(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    first = with_secret(settings).signing_key()
    path = tmp_path / "clinic.sqlite3.secret-key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 64 and first in path.read_text()
    assert with_secret(settings).signing_key() == first  # kept: tokens survive a restart
    other = Settings(database_url=f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert with_secret(other).signing_key() != first
    path.chmod(0o644)
    assert load_or_create(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    configured = Settings(database_url=settings.database_url, secret_key=SecretStr("c" * 40))
    assert with_secret(configured).signing_key() == "c" * 40
    assert list(tmp_path.glob(".secret-*")) == []  # no temporary file left behind
    path.write_text("x")
    with pytest.raises(ValueError, match="does not hold a secret"):
        with_secret(settings)


def test_a_database_server_gets_one_secret_per_database_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    one = secret_path("postgresql://cd:pw1@127.0.0.1:5432/clinic")
    assert one == secret_path("postgresql://cd:pw2@127.0.0.1:5432/clinic")
    assert one != secret_path("postgresql://cd@127.0.0.1:5432/other")
    assert one is not None and one.is_relative_to(tmp_path)
    assert secret_path("sqlite://") is None


def test_production_refuses_to_run_without_its_own_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLINIC_DESK_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="production mode needs its own secret"):
        load_settings()
    monkeypatch.setenv("CLINIC_DESK_SECRET_KEY", "short")
    with pytest.raises(ValidationError, match="at least 32 characters"):
        load_settings()
    monkeypatch.setenv("CLINIC_DESK_SECRET_KEY", "s" * 40)
    assert load_settings().environment == "production"


def test_file_then_environment_then_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "server.toml"
    config.write_text(
        'access_token_minutes = 5\nrefresh_token_days = 3\ndatabase_url = "sqlite:///a"\n'
    )
    monkeypatch.setenv("CLINIC_DESK_REFRESH_TOKEN_DAYS", "7")
    settings = load_settings(config, database_url="sqlite:///b")
    assert (settings.access_token_minutes, settings.refresh_token_days) == (5, 7)
    assert settings.database_url == "sqlite:///b"
    monkeypatch.setenv("CLINIC_DESK_CONFIG", str(config))
    assert load_settings().access_token_minutes == 5


def test_file_mistakes_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileMissing):
        load_settings(tmp_path / "missing.toml")
    typo = tmp_path / "typo.toml"
    typo.write_text("acces_token_minutes = 5\n")
    with pytest.raises(ValidationError, match="acces_token_minutes"):
        load_settings(typo)
    with pytest.raises(ValidationError):
        Settings(access_token_minutes=0)


def test_ice_servers_come_from_the_environment_and_reach_the_desktops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.settings import Settings as Configured

    monkeypatch.setenv(
        "CLINIC_DESK_ICE_SERVERS",
        '[{"urls": ["turn:turn.hospital.example:3478"], "username": "cd", "credential": "s"}]',
    )
    settings = Configured(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert settings.ice_servers[0].urls == ["turn:turn.hospital.example:3478"]
    monkeypatch.setenv("CLINIC_DESK_ICE_SERVERS", '[{"urls": ["http://example.org"]}]')
    with pytest.raises(ValidationError, match="not a stun:, turn: or turns: URL"):
        Configured()
    with TestClient(create_app(settings)) as client:
        assert client.get("/calls/ice-servers").status_code == 401  # staff only


def test_group_calls_need_the_whole_janus_setup() -> None:
    secrets = {
        "janus_api_secret": "a" * 16,
        "janus_token_secret": "b" * 16,
        "janus_room_key": "c" * 16,
    }
    janus = {"janus_url": "http://127.0.0.1:8088/janus", "janus_public_url": "ws://127.0.0.1:8188"}
    assert Settings(**janus, **secrets).janus_url  # type: ignore[arg-type]
    assert Settings().janus_url == ""  # off unless set
    with pytest.raises(ValidationError, match="janus_room_key must be at least 16"):
        Settings(**janus, **(secrets | {"janus_room_key": "short"}))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="janus_public_url must be ws"):
        Settings(**(janus | {"janus_public_url": ""}), **secrets)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="janus_url must be Janus's HTTP API"):
        Settings(**(janus | {"janus_url": "ws://127.0.0.1:8188"}), **secrets)  # type: ignore[arg-type]
    remote = janus | {"janus_public_url": "ws://sfu.example.org:8188"}
    production = {"environment": "production", "secret_key": "s" * 40}
    with pytest.raises(ValidationError, match="janus_public_url must use wss in production"):
        Settings(**remote, **secrets, **production)  # type: ignore[arg-type]
    secure = janus | {"janus_public_url": "wss://sfu.example.org/janus"}
    assert Settings(**secure, **secrets, **production).janus_public_url  # type: ignore[arg-type]
