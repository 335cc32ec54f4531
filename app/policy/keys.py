"""The policy keys, their defaults, and the checks a value must pass before it is used."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from app.policy.errors import InvalidPolicyValue

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_TURN_URI = re.compile(
    r"^turns?:[A-Za-z0-9.\-\[\]:]+(:\d{1,5})?(\?transport=(udp|tcp))?$"
)
MAX_LIST_ITEMS = 32
MAX_IDLE_LOCK_MINUTES = 24 * 60


def _server_url(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidPolicyValue(f"must be a text URL, not {type(value).__name__}")
    text = value.strip()
    parts = urlsplit(text)
    if not parts.hostname:
        raise InvalidPolicyValue(f"{text!r} is not a URL with a host")
    # Plain http only for a server on this machine (a test or a local proxy).
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    ):
        raise InvalidPolicyValue(f"{text!r} must start with https://")
    return text.rstrip("/")


def _text_list(value: object, check: Callable[[str], str | None] | None = None) -> list[str]:
    if not isinstance(value, list):
        raise InvalidPolicyValue(f"must be a list of text, not {type(value).__name__}")
    if len(value) > MAX_LIST_ITEMS:
        raise InvalidPolicyValue(f"has {len(value)} entries; at most {MAX_LIST_ITEMS}")
    items: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise InvalidPolicyValue(f"entry {item!r} is not a non-empty text")
        problem = check(item.strip()) if check is not None else None
        if problem:
            raise InvalidPolicyValue(problem)
        items.append(item.strip())
    return items


def _ice_interfaces(value: object) -> list[str]:
    return _text_list(value)


def _turn_servers(value: object) -> list[str]:
    def check(uri: str) -> str | None:
        if _TURN_URI.match(uri):
            return None
        return f"{uri!r} is not a TURN URI like turns:turn.example.org:5349"

    return _text_list(value, check)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidPolicyValue(f"must be true or false, not {value!r}")
    return value


def _idle_lock_minutes(value: object) -> int:
    # bool is an int in Python; `true` minutes is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidPolicyValue(f"must be a whole number of minutes, not {value!r}")
    if not 0 <= value <= MAX_IDLE_LOCK_MINUTES:
        raise InvalidPolicyValue(f"{value} is outside 0..{MAX_IDLE_LOCK_MINUTES} (0: never)")
    return value


@dataclass(frozen=True, slots=True)
class PolicyKey:
    name: str
    kind: type
    check: Callable[[object], Any]
    default: Any
    label: str


POLICY_KEYS: dict[str, PolicyKey] = {
    key.name: key
    for key in (
        PolicyKey("server_url", str, _server_url, "", "Server URL"),
        PolicyKey("ice_interfaces", list, _ice_interfaces, [], "Network interfaces for calls"),
        PolicyKey("turn_servers", list, _turn_servers, [], "TURN servers"),
        # IT's rule that call media never go peer to peer (the server may say so too).
        PolicyKey("relay_only", bool, _flag, False, "Calls only through the TURN relay"),
        PolicyKey("allow_test_pattern", bool, _flag, False,
                  "Allow the test pattern and tone (training rooms)"),
        PolicyKey("idle_lock_minutes", int, _idle_lock_minutes, 0, "Lock after idle (minutes)"),
    )
}


def defaults() -> dict[str, Any]:
    """A fresh copy of every key's default (lists are not shared between callers)."""
    return {name: list(key.default) if isinstance(key.default, list) else key.default
            for name, key in POLICY_KEYS.items()}


def validate(name: str, value: object) -> Any:
    """The checked (and normalised) value of key `name`; raises InvalidPolicyValue."""
    key = POLICY_KEYS.get(name)
    if key is None:
        raise InvalidPolicyValue(f"{name!r} is not a Clinic Desk setting")
    return key.check(value)
