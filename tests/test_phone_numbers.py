"""Patients' numbers in E.164 before dialling, the SIP answers' outcomes, the phone settings."""

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from server.settings import Settings
from shared.phone_call_protocol import PhoneOutcome, outcome_of
from shared.phone_numbers import NumberRefused, for_people, to_e164

JANUS: dict[str, Any] = {
    "janus_url": "http://127.0.0.1:8088/janus",
    "janus_public_url": "ws://127.0.0.1:8188",
    "janus_api_secret": "a" * 16,
    "janus_token_secret": "b" * 16,
    "janus_room_key": "c" * 16,
}


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("020 7946 0961", "GB", "+442079460961"),
        ("+44 (0)20-7946-0961", "GB", "+442079460961"),
        ("0044 20 7946 0961", "GB", "+442079460961"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("+1 201 555 0123", "GB", "+12015550123"),
    ],
)
def test_numbers_as_people_type_them_are_written_in_e164(
    typed: str, region: str, e164: str
) -> None:
    assert to_e164(typed, region) == e164


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("  ", "The patient has no phone number. Add one before calling."),
        ("call me", "“call me” is not a phone number."),
        ("123", "“123” has too few or too many digits for a phone number."),
        ("01632 960961", "“01632 960961” is not a number that can be dialled."),
    ],
)
def test_numbers_that_cannot_be_dialled_are_refused_in_words(typed: str, message: str) -> None:
    with pytest.raises(NumberRefused) as refused:
        to_e164(typed, "GB")
    assert str(refused.value) == message


def test_a_number_for_people() -> None:
    assert for_people("+442079460961") == "+44 20 7946 0961"


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(486, PhoneOutcome.BUSY), (600, PhoneOutcome.BUSY), (480, PhoneOutcome.NO_ANSWER),
     (408, PhoneOutcome.NO_ANSWER), (603, PhoneOutcome.DECLINED), (404, PhoneOutcome.UNREACHABLE),
     (484, PhoneOutcome.UNREACHABLE), (500, PhoneOutcome.FAILED), (503, PhoneOutcome.FAILED)],
)
def test_sip_answers_become_outcomes(code: int, outcome: PhoneOutcome) -> None:
    assert outcome_of(code) is outcome
    assert outcome.words in ("busy", "no answer", "declined", "number unreachable", "failed")


def test_the_phone_line_settings_are_checked() -> None:
    line = Settings(**JANUS, phone_sip_proxy="sip:sbc.example.org", phone_caller_id="020 7946 0000")
    assert line.phone_caller_id == "+442079460000"
    with pytest.raises(ValidationError, match="phone_sip_proxy needs janus_url"):
        Settings(phone_sip_proxy="sip:sbc.example.org", phone_caller_id="+442079460000")
    with pytest.raises(ValidationError, match="must be the clinic's own number"):
        Settings(**JANUS, phone_sip_proxy="sip:sbc.example.org", phone_caller_id="")
    with pytest.raises(ValidationError, match="must be a sip: URI"):
        Settings(**JANUS, phone_sip_proxy="sbc.example.org", phone_caller_id="+442079460000")
    with pytest.raises(ValidationError, match="is not a region"):
        Settings(phone_default_region="XX")
    # The trunk's password never shows in the settings' text.
    secret = Settings(**JANUS, phone_sip_proxy="sip:sbc.example.org",
                      phone_caller_id="+442079460000", phone_sip_secret=SecretStr("hunter2-trunk"))
    assert "hunter2-trunk" not in repr(secret)
