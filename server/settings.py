"""Server settings from the environment (CLINIC_DESK_*) and an optional TOML file."""

import os
import re
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from server.security.client_address import parse_networks
from shared.enums import AppointmentKind
from shared.phone_numbers import NumberRefused, known_region, to_e164

#: The statuses an outbound HL7 event may be configured for (hl7_outbound_events).
OutboundStatus = Literal["waiting", "taken", "no_show"]
_DEFAULT_OUTBOUND_EVENTS: dict[OutboundStatus, str] = {
    "waiting": "SIU^S14", "taken": "SIU^S14", "no_show": "SIU^S14",
}

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
    #: Signs access tokens. Unset: a random one kept with the database (server/security/
    #: secret_file.py) outside production; production refuses to start without one.
    secret_key: SecretStr | None = None
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    #: A refresh token presented again this soon after its exchange, before the new token was
    #: used, gets the same new pair (the first answer was lost); later it revokes the session.
    #: At most 60 s: never longer than an access token lives.
    refresh_grace_seconds: int = Field(default=45, ge=0, le=60)
    #: Failed sign-ins to one account from one address before each attempt must wait; the wait
    #: starts at login_delay_seconds and doubles per failure up to login_max_delay_seconds.
    login_free_failures: int = Field(default=5, ge=1)
    login_delay_seconds: float = Field(default=2.0, gt=0, le=3600)
    login_max_delay_seconds: float = Field(default=300.0, gt=0, le=24 * 3600)
    #: Failed sign-ins from one address, over all accounts, within the window (spraying).
    login_failures_per_address: int = Field(default=100, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    #: argon2id cost; the defaults are argon2-cffi's RFC 9106 low-memory profile.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    #: Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks, e.g.
    #: CLINIC_DESK_TRUSTED_PROXIES='["127.0.0.1"]' behind nginx on the same machine). Empty: the
    #: peer's address is the client's, and the header is ignored (anyone could forge it).
    trusted_proxies: list[str] = Field(default_factory=list, max_length=50)
    #: The API's pages /docs and /redoc (served from this server, no CDN); /openapi.json stays.
    api_docs: bool = True
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
    #: A folder that takes the invites as .eml files instead of an SMTP server (the demo, a
    #: mail "pickup directory"); set, it wins over smtp_host.
    mail_pickup_dir: str = ""
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
    #: A page that reconnects within this long of last being heard (a server restart) goes on
    #: from the patient's first arrival; after longer it is a new visit.
    patient_resume_seconds: float = Field(default=300.0, ge=90, le=3600)
    #: After this long in the waiting room the page shows the clinic's phone number.
    waiting_threshold_minutes: int = Field(default=15, ge=1, le=240)
    clinic_phone: str = Field(default="", max_length=64)
    #: Named in invites of appointments that have no location.
    clinic_name: str = Field(default="The clinic", min_length=1, max_length=200)
    #: STUN/TURN servers for calls, given to desktops and patients' pages (RTCIceServer JSON):
    #: CLINIC_DESK_ICE_SERVERS='[{"urls": ["turn:turn.example.org:3478"], "username": "cd",
    #: "credential": "..."}]'. Empty: direct connections only (no public STUN is ever used).
    ice_servers: list[IceServerSetting] = Field(default_factory=list, max_length=10)
    #: coturn's URLs for per-call credentials, in the order clients try them (UDP 3478, TCP
    #: 3478, TLS 443): CLINIC_DESK_TURN_URLS='["turn:turn.example.org:3478?transport=udp",
    #: "turn:turn.example.org:3478?transport=tcp", "turns:turn.example.org:443?transport=tcp"]'.
    turn_urls: list[str] = Field(default_factory=list, max_length=5)
    #: coturn's static-auth-secret (use-auth-secret): signs each call's TURN credentials and
    #: never leaves the server.
    turn_secret: SecretStr = SecretStr("")
    #: A call's TURN credentials expire this long after the appointment's booked end (or after
    #: they are minted, when that is later): long enough for an overrunning call.
    turn_overrun_minutes: int = Field(default=60, ge=5, le=24 * 60)
    #: Media only through the TURN relay, never peer to peer (IT's rule), on both sides.
    ice_relay_only: bool = False

    @field_validator("turn_urls")
    @classmethod
    def _turn_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("turn:", "turns:")):
                raise ValueError(f"{url!r} is not a turn: or turns: URL")
        return urls

    #: HL7 v2 over MLLP (server/integration/): the port to listen on, None: no listener.
    mllp_port: int | None = Field(default=None, ge=1, le=65535)
    mllp_host: str = "127.0.0.1"
    #: A connection that sends nothing this long is closed; a started message must end in time.
    mllp_idle_seconds: float = Field(default=300.0, gt=0, le=3600)
    mllp_message_seconds: float = Field(default=30.0, gt=0, le=600)
    #: Largest MLLP message accepted (bytes); a larger one is answered AR and dropped.
    mllp_max_message_bytes: int = Field(default=1_048_576, ge=4096, le=64 * 1_048_576)
    #: The clinician of an AIP segment: its identifier (AIP-3.1, or "AUTH:ID" with the assigning
    #: authority AIP-3.9) to a staff username. Unknown identifiers are refused, never guessed.
    hl7_clinicians: dict[str, str] = Field(default_factory=dict)
    #: SCH-8 appointment type codes (first component, case-insensitive) to a kind; an unknown
    #: code is refused, an empty one takes hl7_default_kind.
    hl7_appointment_types: dict[str, AppointmentKind] = Field(
        default_factory=lambda: {"VIDEO": AppointmentKind.VIDEO, "PHONE": AppointmentKind.PHONE}
    )
    hl7_default_kind: AppointmentKind = AppointmentKind.VIDEO
    #: The zone of HL7 times sent without an offset (an IANA name).
    hl7_time_zone: str = "UTC"
    #: Only PID-3 identifiers of this assigning authority count as the MRN ("": the first one,
    #: preferring identifier type MR).
    hl7_mrn_authority: str = Field(default="", max_length=64)
    #: Raw messages kept for the admin's log and replay; the oldest go first.
    hl7_log_max_messages: int = Field(default=100_000, ge=100)
    #: Outbound HL7 (server/integration/hl7_outbound*.py): when an appointment the hospital's
    #: system booked changes status here, this SIU event is sent back to hl7_outbound_host:port,
    #: queued in the database and retried until ACKed. A status left out (or "") sends nothing.
    hl7_outbound_host: str = "127.0.0.1"
    #: None: nothing is sent (and nothing queued).
    hl7_outbound_port: int | None = Field(default=None, ge=1, le=65535)
    hl7_outbound_events: dict[OutboundStatus, str] = Field(default_factory=lambda: dict(
        _DEFAULT_OUTBOUND_EVENTS))
    #: MSH-5 / MSH-6 of outbound messages (the hospital's receiving application and facility).
    hl7_outbound_application: str = Field(default="", max_length=64)
    hl7_outbound_facility: str = Field(default="", max_length=64)
    #: The first retry waits this long, each next one twice as long (at most 10 minutes).
    hl7_outbound_retry_seconds: float = Field(default=5.0, gt=0, le=600)
    #: How long to wait for the connection and for the ACK.
    hl7_outbound_timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @field_validator("hl7_outbound_events")
    @classmethod
    def _outbound_events(cls, events: dict[str, str]) -> dict[str, str]:
        for status, event in events.items():
            if event and not re.fullmatch(r"SIU\^S\d\d", event):
                raise ValueError(f"{event!r} (for {status}) is not an SIU event such as SIU^S14")
        return events

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

    #: Phone calls to patients' telephones through Janus's SIP plugin (docs/calls.md, "Phone
    #: calls"); they need janus_url. The trunk or PBX every INVITE goes to (e.g.
    #: sip:sbc.hospital.example:5060); empty: dialling out is off.
    phone_sip_proxy: str = ""
    #: The host of the numbers dialled (sip:+441632960961@<domain>); empty: the proxy's host.
    phone_sip_domain: str = ""
    #: The trunk account Janus registers (e.g. sip:clinic@pbx.hospital.example); empty: no
    #: REGISTER (a trunk that trusts the SBC's address). Its password and auth user.
    phone_sip_username: str = ""
    phone_sip_secret: SecretStr = SecretStr("")
    phone_sip_authuser: str = ""
    #: The clinic's own number in E.164: the caller ID patients see, never a clinician's line.
    phone_caller_id: str = ""
    #: The region of numbers written without a country code (two letters: GB, IE, US...).
    phone_default_region: str = "GB"
    #: A phone that rings this long unanswered ends the attempt as "no answer".
    phone_ring_seconds: int = Field(default=45, ge=5, le=300)

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
        if (self.smtp_host or self.mail_pickup_dir) and "@" not in self.smtp_from:
            raise ValueError(
                "smtp_from must be an email address when smtp_host or mail_pickup_dir is set"
            )
        if self.smtp_security == "none" and self.smtp_username and not _loopback(self.smtp_host):
            raise ValueError("smtp_security 'none' would send the SMTP password in clear text")
        if self.patient_heartbeat_timeout_seconds <= self.patient_heartbeat_seconds:
            raise ValueError(
                "patient_heartbeat_timeout_seconds must exceed patient_heartbeat_seconds"
            )
        return self

    @field_validator("secret_key", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        # CLINIC_DESK_SECRET_KEY= (empty) is a slip, not a key: treat it as not configured.
        return None if value == "" else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, entries: list[str]) -> list[str]:
        parse_networks(entries)
        return entries

    @model_validator(mode="after")
    def _turn_makes_sense(self) -> "Settings":
        secret = self.turn_secret.get_secret_value()
        if self.turn_urls and len(secret) < (32 if self.environment == "production" else 16):
            raise ValueError(
                "turn_urls need turn_secret, coturn's static-auth-secret (at least 32 random "
                "characters in production, 16 otherwise)"
            )
        static_turn = any(
            url.startswith(("turn:", "turns:"))
            for server in self.ice_servers
            for url in server.urls
        )
        if self.ice_relay_only and not (self.turn_urls or static_turn):
            raise ValueError("ice_relay_only needs a TURN server (turn_urls or ice_servers)")
        return self

    @field_validator("hl7_time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not an IANA time zone") from None
        return zone

    @field_validator("hl7_appointment_types")
    @classmethod
    def _upper_codes(cls, table: dict[str, AppointmentKind]) -> dict[str, AppointmentKind]:
        return {code.strip().upper(): kind for code, kind in table.items()}

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
    def _phone_complete(self) -> "Settings":
        if not known_region(self.phone_default_region):
            raise ValueError(f"phone_default_region {self.phone_default_region!r} is not a region")
        if not self.phone_sip_proxy:
            return self
        if not self.janus_url:
            raise ValueError("phone_sip_proxy needs janus_url: Janus's SIP plugin dials out")
        for name in ("phone_sip_proxy", "phone_sip_username"):
            value = getattr(self, name)
            if value and not value.startswith(("sip:", "sips:")):
                raise ValueError(f"{name} must be a sip: URI, e.g. sip:pbx.example.org:5060")
        try:
            self.phone_caller_id = to_e164(self.phone_caller_id, self.phone_default_region)
        except NumberRefused:
            raise ValueError(
                "phone_caller_id must be the clinic's own number (E.164, e.g. +441632960000)"
            ) from None
        return self

    @model_validator(mode="after")
    def _argon2_memory_fits(self) -> "Settings":
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise ValueError("argon2_memory_kib must be at least 8 x argon2_parallelism")
        return self

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key is None:
                raise ValueError(
                    "production mode needs its own secret: set CLINIC_DESK_SECRET_KEY "
                    "(at least 32 random characters, e.g. from: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("the secret key must be at least 32 characters in production")
        return self

    def signing_key(self) -> str:
        """The secret that signs tokens (set by the app factory when not configured)."""
        if self.secret_key is None:
            raise RuntimeError("no signing secret: create_app resolves one (secret_file.py)")
        return self.secret_key.get_secret_value()

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
