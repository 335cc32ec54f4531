"""Errors of the machine policy: a value or a source that cannot be used."""

from shared.errors import Error


class PolicyError(Error):
    """Base of the policy's errors."""


class InvalidPolicyValue(PolicyError):
    """A value of the wrong type or out of range; that key alone is ignored."""


class UnreadablePolicy(PolicyError):
    """The policy source exists but cannot be read or parsed; all of it is ignored."""
