"""SMART system scopes: `system/<Type or *>.<cruds letters, or read / write>`."""

import re
from dataclasses import dataclass

RESOURCE_TYPES = ("Appointment", "Patient", "Practitioner")
_SCOPE = re.compile(r"system/(\*|[A-Z][A-Za-z]+)\.(\*|read|write|[cruds]+)")
_V1 = {"*": "cruds", "read": "rs", "write": "cud"}


class ScopeError(ValueError):
    """A scope that is not a system scope of this server."""


@dataclass(frozen=True, slots=True)
class Scope:
    resource: str  # a resource type, or "*"
    permissions: frozenset[str]  # letters of "cruds"

    def allows(self, resource: str, permission: str) -> bool:
        return self.resource in ("*", resource) and permission in self.permissions


def parse(text: str) -> list[Scope]:
    """The scopes of a space-separated list (ScopeError names the first bad one)."""
    scopes = []
    for word in text.split():
        match = _SCOPE.fullmatch(word)
        if match is None or match[1] not in (*RESOURCE_TYPES, "*"):
            raise ScopeError(f"Unknown scope {word[:80]!r}: use e.g. system/Appointment.rs.")
        letters = _V1.get(match[2], match[2])
        scopes.append(Scope(match[1], frozenset(letters)))
    return scopes


def allows(scopes: list[Scope], resource: str, permission: str) -> bool:
    return any(scope.allows(resource, permission) for scope in scopes)


def _covers(held: list[Scope], wanted: Scope) -> bool:
    types = RESOURCE_TYPES if wanted.resource == "*" else (wanted.resource,)
    return all(allows(held, kind, letter) for kind in types for letter in wanted.permissions)


def grant(held: str, requested: str | None) -> str:
    """The scopes a token gets: those requested that the client holds (all it holds if none).

    A malformed request is refused (ScopeError), not silently narrowed.
    """
    if not requested:
        return held
    mine = parse(held)
    words = requested.split()
    return " ".join(word for word, scope in zip(words, parse(requested), strict=True)
                    if _covers(mine, scope))
