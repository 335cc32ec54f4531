"""A patient's telephone number checked and written in E.164 (+441632960961) before dialling."""

import phonenumbers

from shared.errors import KnownError

#: The region a number written without its country code belongs to, when none is set.
DEFAULT_REGION = "GB"


class NumberRefused(KnownError):
    """The number cannot be dialled; the message says why, in words."""


def known_region(region: str) -> bool:
    """Whether `region` is a two-letter region phonenumbers knows (GB, US, DE...)."""
    return region.upper() in phonenumbers.SUPPORTED_REGIONS


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """`raw` as typed (spaces, dashes, a leading 0 or +44) in E.164; NumberRefused if it is not a
    number that can be dialled from `region`."""
    text = raw.strip()
    if not text:
        raise NumberRefused("The patient has no phone number. Add one before calling.")
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        raise NumberRefused(f"“{text}” is not a phone number.") from None
    if not phonenumbers.is_possible_number(number):
        raise NumberRefused(f"“{text}” has too few or too many digits for a phone number.")
    if not phonenumbers.is_valid_number(number):
        raise NumberRefused(f"“{text}” is not a number that can be dialled.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def for_people(e164: str) -> str:
    """The number as people write it internationally (+44 1632 960961)."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def check_before_dialling(raw: str) -> None:
    """NumberRefused for what no clinic could dial: no number, or text that is no number at all;
    a number written with its country code (+44..., 0044...) is checked in full. The server
    checks a national number (07700 900123) against the clinic's region before dialling."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text or text.startswith("+"):
        to_e164(text)
        return
    try:
        phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise NumberRefused(f"“{text}” is not a phone number.") from None
