"""What a desktop or a participant's page gets to join a group call's Janus rooms (wire schema)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class GroupJoin(BaseModel):
    """One participant's credential for one appointment's rooms (docs/group-calls.md)."""

    #: Janus's WebSocket API (subprotocol "janus-protocol").
    janus_url: str
    #: Opens a Janus session for the group-call plugins until `expires_at` (Janus's `token`).
    janus_token: str
    #: The room's id in VideoRoom, AudioBridge and TextRoom.
    room: str
    #: On the room's `allowed` list: the `token` of the join requests.
    join_token: str
    #: This participant's id in the rooms, and the name the others see.
    id: str
    display: str
    role: Literal["staff", "guest"]
    expires_at: datetime
