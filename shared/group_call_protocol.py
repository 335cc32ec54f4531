"""What a desktop or a participant's page gets to join a group call's Janus rooms (wire schema)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GroupIceServer(BaseModel):
    """One RTCIceServer for the legs to Janus: the TURN entry's credentials are minted for this
    participant (coturn's shared-secret scheme, docs/calls.md); never the secret."""

    urls: list[str]
    username: str = ""
    credential: str = ""


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
    #: The STUN/TURN servers of the legs to Janus, as a 1:1 call gets them (empty: none).
    ice_servers: list[GroupIceServer] = Field(default_factory=list)
    #: "relay": the legs' media only through the TURN relay (the server's ice_relay_only).
    ice_transport_policy: Literal["all", "relay"] = "all"


class GroupWaiting(BaseModel):
    """A participant waiting in the waiting room for the clinician to admit them."""

    #: Their id in the rooms once admitted ("guest-3").
    participant: str
    display: str
    #: When they first asked to join the call.
    since: datetime


class GroupWaitingList(BaseModel):
    """Who waits to be admitted (their page open now), oldest first, and the room's lock."""

    waiting: list[GroupWaiting]
    locked: bool = False


class GroupAdmit(BaseModel):
    """The participants the clinician lets in ("Admit" one, "Admit all" those shown)."""

    model_config = ConfigDict(extra="forbid")

    participants: list[str] = Field(min_length=1, max_length=64)


class GroupAdmitted(BaseModel):
    """Who was let in (already admitted ones included)."""

    admitted: list[str]
