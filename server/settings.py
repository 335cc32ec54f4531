"""Server settings from the environment (CLINIC_DESK_*) and an optional TOML file."""

import os
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

#: The secret a fresh checkout has. Good enough on a laptop; refused in production.
DEFAULT_SECRET = "clinic-desk-development-secret-change-me"
#: Names a TOML settings file when the command line does not.
CONFIG_ENV = "CLINIC_DESK_CONFIG"


def default_database_url() -> str:
    """A SQLite file in the platform's data folder (e.g. ~/.local/share/ClinicDeskServer)."""
    folder = Path(platformdirs.user_data_dir("ClinicDeskServer", appauthor=False))
    return f"sqlite:///{folder / 'server.sqlite3'}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class IceServerSetting(BaseModel):
    urls: list[str] = Field(min_length=1, max_length=5)
    username: str = Field(default="", max_length=200)
    credential: str = Field(default="", max_length=500)

    @field_validator("urls")
    @classmethod
    def _ice_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise ValueError(f"{url!r} is not a stun:, turn: or turns: URL")
        return urls


class Settings(BaseSettings):
    """Everything the server reads at start; precedence: arguments > environment > file."""

    model_config = SettingsConfigDict(env_prefix="CLINIC_DESK_", extra="forbid")

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(default_factory=default_database_url)
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    #: Failed logins allowed per account, and per client address, within the window.
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    #: argon2id cost; the defaults are argon2-cffi's RFC 9106 low-memory profile.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    #: Largest request body accepted, in bytes.
    max_body_bytes: int = Field(default=1_000_000, ge=1024)

    #: Where patients reach this server: the base of the links in invites (scheme://host[:port]).
    public_url: str = "http://127.0.0.1:8000"
    #: The SMTP server that sends patient invites; empty: invites are off (nothing is queued).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    #: "starttls" (upgrade after connecting, port 587), "tls" (implicit TLS, port 465), "none".
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    #: The invites' From address, e.g. "St Mary's Clinic <clinic@example.org>".
    smtp_from: str = ""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    #: First retry of a failed invite after this long, doubling each time, at most an hour apart.
    invite_retry_seconds: float = Field(default=60.0, gt=0, le=3600)
    invite_max_attempts: int = Field(default=8, ge=1, le=50)
    #: A patient link stays valid this long after the appointment's end.
    link_grace_minutes: int = Field(default=60, ge=0, le=24 * 60)
    #: Failed patient-link look-ups allowed per client address within the window.
    join_failures_per_address: int = Field(default=20, ge=1)
    join_failure_window_seconds: int = Field(default=600, ge=1)
    #: The patient's page pings this often; without a message for the timeout it is gone.
    patient_heartbeat_seconds: float = Field(default=5.0, gt=0, le=60)
    patient_heartbeat_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    #: A patient whose socket closes is announced "left" after this pause (a reload is no exit).
    patient_leave_grace_seconds: float = Field(default=2.0, ge=0, le=30)
    #: After this long in the waiting room the page shows the clinic's phone number.
    waiting_threshold_minutes: int = Field(default=15, ge=1, le=240)
    clinic_phone: str = Field(default="", max_length=64)
    #: Named in invites of appointments that have no location.
    clinic_name: str = Field(default="The clinic", min_length=1, max_length=200)
    #: STUN/TURN servers for calls, given to desktops and patients' pages (RTCIceServer JSON):
    #: CLINIC_DESK_ICE_SERVERS='[{"urls": ["turn:turn.example.org:3478"], "username": "cd",
    #: "credential": "..."}]'. Empty: direct connections only (no public STUN is ever used).
    ice_servers: list[IceServerSetting] = Field(default_factory=list, max_length=10)
    #: Janus, the SFU of group calls (docs/group-calls.md). Empty: group calls are off.
    #: The HTTP API the server manages rooms through (e.g. http://127.0.0.1:8088/janus).
    janus_url: str = ""
    #: Where desktops and patients' pages reach Janus's WebSocket API (ws:// or wss://).
    janus_public_url: str = ""
    #: Janus's api_secret, token_auth_secret and the plugins' admin_key: never sent anywhere.
    janus_api_secret: SecretStr = SecretStr("")
    janus_token_secret: SecretStr = SecretStr("")
    janus_room_key: SecretStr = SecretStr("")
    janus_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @model_validator(mode="after")
    def _patient_side_makes_sense(self) -> "Settings":
        url = urlsplit(self.public_url)
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise ValueError(
                "public_url must be http(s)://host[:port][/path], e.g. https://cd.example.org"
            )
        local = _loopback(url.hostname)
        if self.environment == "production" and url.scheme != "https" and not local:
            raise ValueError("public_url must use https in production (patients' links)")
        if self.smtp_host and "@" not in self.smtp_from:
            raise ValueError("smtp_from must be an email address when smtp_host is set")
        if self.smtp_security == "none" and self.smtp_username and not _loopback(self.smtp_host):
            raise ValueError("smtp_security 'none' would send the SMTP password in clear text")
        if self.patient_heartbeat_timeout_seconds <= self.patient_heartbeat_seconds:
            raise ValueError(
                "patient_heartbeat_timeout_seconds must exceed patient_heartbeat_seconds"
            )
        return self

    @model_validator(mode="after")
    def _janus_complete(self) -> "Settings":
        if not self.janus_url:
            return self
        if urlsplit(self.janus_url).scheme not in ("http", "https"):
            raise ValueError("janus_url must be Janus's HTTP API, e.g. http://127.0.0.1:8088/janus")
        public = urlsplit(self.janus_public_url)
        if public.scheme not in ("ws", "wss") or not public.hostname:
            raise ValueError("janus_public_url must be ws:// or wss:// when janus_url is set")
        if self.environment == "production" and public.scheme != "wss":
            if not _loopback(public.hostname):
                raise ValueError("janus_public_url must use wss in production")
        for name in ("janus_api_secret", "janus_token_secret", "janus_room_key"):
            value: SecretStr = getattr(self, name)
            if len(value.get_secret_value()) < 16:
                raise ValueError(f"{name} must be at least 16 characters when janus_url is set")
        return self

    @model_validator(mode="after")
    def _argon2_memory_fits(self) -> "Settings":
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise ValueError("argon2_memory_kib must be at least 8 x argon2_parallelism")
        return self

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> "Settings":
        secret = self.secret_key.get_secret_value()
        if self.environment == "production":
            if secret == DEFAULT_SECRET:
                raise ValueError(
                    "production mode needs its own secret: set CLINIC_DESK_SECRET_KEY "
                    "(at least 32 random characters, e.g. from: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if len(secret) < 32:
                raise ValueError("the secret key must be at least 32 characters in production")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


class ConfigFileMissing(Exception):
    """The settings file named on the command line or in CLINIC_DESK_CONFIG does not exist."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from `overrides`, the environment and a TOML file (argument or CLINIC_DESK_CONFIG).

    Overrides that are None are left out, so unset command-line options do not hide the others.
    """
    path = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    values = {name: value for name, value in overrides.items() if value is not None}
    if path is None:
        return Settings(**values)
    if not path.is_file():
        raise ConfigFileMissing(f"settings file not found: {path}")
    with_file = type(
        "Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}}
    )
    settings = with_file(**values)
    assert isinstance(settings, Settings)
    return settings
