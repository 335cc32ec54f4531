"""Names and credentials of an appointment's Janus rooms, derived from the server's secrets.

Nothing here is stored: the room name, the room's own secret and each participant's join
token are HMACs of the appointment (and the participant), so the server can recreate the same
rooms after Janus restarts. A join token is put on one room's `allowed` list only, so it never
opens another appointment's room; the Janus token (token_auth_secret, HMAC-SHA1 as Janus
checks it) lets its holder open a Janus session for the group-call plugins until it expires.
"""

import base64
import hashlib
import hmac
from datetime import datetime
from uuid import UUID

from server.janus.config import PLUGINS


def _digest(secret: str, *parts: str) -> bytes:
    message = "\x1f".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def room_name(secret: str, appointment_id: UUID) -> str:
    """The appointment's room id in VideoRoom, AudioBridge and TextRoom (opaque, stable)."""
    return "cd-" + _digest(secret, "janus-room", str(appointment_id)).hex()[:24]


def room_secret(secret: str, appointment_id: UUID) -> str:
    """The room's own secret (edit, kick, allowed list, destroy): the server's only."""
    return base64.urlsafe_b64encode(_digest(secret, "janus-room-secret", str(appointment_id)))[
        :32
    ].decode()


def join_token(secret: str, appointment_id: UUID, who: str) -> str:
    """The token `who` (e.g. "staff:<user id>", "guest:3") joins the appointment's rooms with."""
    raw = _digest(secret, "janus-join", str(appointment_id), who)
    return base64.urlsafe_b64encode(raw)[:32].decode()


def janus_token(token_secret: str, expires: datetime, plugins: tuple[str, ...] = PLUGINS) -> str:
    """A signed Janus token valid until `expires` for `plugins` (Janus's token_auth_secret)."""
    data = f"{int(expires.timestamp())},janus,{','.join(plugins)}"
    signature = hmac.new(token_secret.encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(signature).decode()}"
