"""What the hub carries between processes: deliveries of one event, and session revocations."""

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event, serialized once, for the desktops of `users` (None: every desktop).

    `patient_of` also addresses the patient connections of that appointment (the waiting-room
    pages); `skip` is the id of a connection that must not get it (the sender).
    """

    message: str
    users: frozenset[UUID] | None = None
    patient_of: UUID | None = None
    skip: UUID | None = None


@dataclass(frozen=True, slots=True)
class Revocation:
    """Sessions ended: one token family, or every session of one user."""

    family_id: UUID | None = None
    user_id: UUID | None = None


Item = Delivery | Revocation


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def to_wire(item: Item) -> str:
    """The item as ASCII JSON (a NOTIFY payload)."""
    if isinstance(item, Revocation):
        return json.dumps(
            {"revoke_family": _text(item.family_id), "revoke_user": _text(item.user_id)}
        )
    users = None if item.users is None else sorted(str(user) for user in item.users)
    return json.dumps(
        {"m": item.message, "u": users, "p": _text(item.patient_of), "s": _text(item.skip)}
    )


def from_wire(text: str) -> Item:
    """The item of a NOTIFY payload; ValueError (or KeyError) when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    if "m" not in data:
        return Revocation(_uuid(data.get("revoke_family")), _uuid(data.get("revoke_user")))
    users = data.get("u")
    return Delivery(
        message=str(data["m"]),
        users=None if users is None else frozenset(UUID(str(user)) for user in users),
        patient_of=_uuid(data.get("p")),
        skip=_uuid(data.get("s")),
    )
