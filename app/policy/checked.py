"""Keep only the policy entries that pass their checks; log each one that does not, by key."""

import logging
from collections.abc import Mapping
from typing import Any

from app.policy.errors import InvalidPolicyValue
from app.policy.keys import POLICY_KEYS, validate

log = logging.getLogger("clinicdesk.policy")


def checked_policy(raw: Mapping[str, object], source: str) -> dict[str, Any]:
    """The valid entries of `raw`; a bad or unknown key is logged and left out, never fatal."""
    kept: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in POLICY_KEYS:
            log.warning("policy %s: ignoring unknown key %r", source, name)
            continue
        try:
            kept[name] = validate(name, value)
        except InvalidPolicyValue as error:
            log.error("policy %s: ignoring %s: %s", source, name, error)
    return kept
