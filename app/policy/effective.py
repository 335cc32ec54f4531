"""Which value a setting takes: machine policy, then the user's choice, then the default."""

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.policy.errors import InvalidPolicyValue
from app.policy.keys import POLICY_KEYS, validate

log = logging.getLogger("clinicdesk.policy")


class Source(enum.Enum):
    POLICY = "policy"
    USER = "user"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class EffectiveSetting:
    value: Any
    source: Source
    #: Shown beside the field when it is locked: who set it and where.
    note: str = ""

    @property
    def locked(self) -> bool:
        """True when the user cannot change it (the Settings dialog disables the field)."""
        return self.source is Source.POLICY


def _checked(name: str, value: object, origin: str) -> tuple[bool, Any]:
    if name not in POLICY_KEYS:
        return True, value  # a setting the policy does not govern: taken as given
    try:
        return True, validate(name, value)
    except InvalidPolicyValue as error:
        log.error("%s setting %s ignored: %s", origin, name, error)
        return False, None


def effective_settings(
    policy: Mapping[str, object],
    user: Mapping[str, object],
    defaults: Mapping[str, object],
    policy_location: str = "the machine policy",
) -> dict[str, EffectiveSetting]:
    """For every key of `defaults`: the policy's value if valid, else the user's, else default.

    Invalid values (wrong type, out of range) are logged and skipped, never raised. Keys that
    only the policy or the user mention, and not `defaults`, are not settings and are ignored.
    """
    result: dict[str, EffectiveSetting] = {}
    for name, default in defaults.items():
        if name in policy:
            ok, value = _checked(name, policy[name], "policy")
            if ok:
                note = f"Set by your organisation ({policy_location}); ask IT to change it."
                result[name] = EffectiveSetting(value, Source.POLICY, note)
                continue
        if name in user:
            ok, value = _checked(name, user[name], "user")
            if ok:
                result[name] = EffectiveSetting(value, Source.USER)
                continue
        result[name] = EffectiveSetting(default, Source.DEFAULT)
    return result
