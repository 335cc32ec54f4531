"""Invite and patient-page settings refuse values that make no sense."""

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from server.settings import Settings

SECRET = "s" * 40


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"public_url": "ftp://clinic.example"}, "public_url must be http"),
        ({"public_url": "https://clinic.example/?a=1"}, "public_url must be http"),
        ({"public_url": "clinic.example"}, "public_url must be http"),
        (
            {
                "environment": "production",
                "secret_key": SECRET,
                "public_url": "http://clinic.example",
            },
            "must use https in production",
        ),
        ({"smtp_host": "mail.example"}, "smtp_from must be an email address"),
        (
            {
                "smtp_host": "mail.example",
                "smtp_from": "c@x.org",
                "smtp_security": "none",
                "smtp_username": "clinic",
            },
            "in clear text",
        ),
        (
            {"patient_heartbeat_seconds": 10, "patient_heartbeat_timeout_seconds": 10},
            "must exceed",
        ),
        ({"smtp_port": 0}, "greater than or equal to 1"),
        ({"smtp_security": "ssl"}, "starttls"),
        ({"waiting_threshold_minutes": 0}, "greater than or equal to 1"),
        ({"invite_max_attempts": 0}, "greater than or equal to 1"),
    ],
)
def test_nonsense_is_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**values)


def test_sensible_values_pass() -> None:
    settings = Settings(
        environment="production",
        secret_key=SecretStr(SECRET),
        public_url="https://clinic.example/desk",
        smtp_host="mail.example",
        smtp_from="St Mary's <clinic@example.org>",
        smtp_username="clinic",
        smtp_security="tls",
        smtp_port=465,
    )
    assert settings.smtp_port == 465
    # Loopback needs no TLS: a development server, or a relay on the same machine.
    assert (
        Settings(
            environment="production",
            secret_key=SecretStr(SECRET),
            public_url="http://127.0.0.1:8000",
            smtp_host="127.0.0.1",
            smtp_from="c@x.org",
            smtp_security="none",
            smtp_username="u",
        ).smtp_security
        == "none"
    )
