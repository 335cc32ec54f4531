"""The ICE servers of one call: coturn's short-lived credentials (use-auth-secret) plus the rest.

coturn's shared-secret scheme (the "TURN REST API"): the username is `expiry:call-id` (expiry in
Unix seconds), the password is base64(HMAC-SHA1(secret, username)). coturn recomputes the
password from its static-auth-secret and refuses a username whose expiry has passed, so the
secret never leaves this server and a leaked credential dies with its call.
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from server.settings import IceServerSetting, Settings


class CallIce(BaseModel):
    """What both ends of one call use: the servers (RTCIceServer's fields) and the policy."""

    ice_servers: list[IceServerSetting]
    #: RTCConfiguration.iceTransportPolicy: "relay" when media may never go peer to peer.
    ice_transport_policy: Literal["all", "relay"]
    #: When the minted TURN credentials stop working (None: no minted credentials).
    expires_at: datetime | None


def turn_credential(secret: str, call_id: str, expires_at: datetime) -> tuple[str, str]:
    """coturn's username and password for `call_id`, valid until `expires_at`."""
    username = f"{int(expires_at.timestamp())}:{call_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def call_valid_until(settings: Settings, booked_end: datetime, now: datetime) -> datetime:
    """The call's credentials last past its booked end (or now, if later) by the overrun."""
    return max(booked_end, now) + timedelta(minutes=settings.turn_overrun_minutes)


def ice_servers_for_call(settings: Settings, call_id: str, valid_until: datetime) -> CallIce:
    """The ICE servers for the call `call_id` (an appointment, a group room, a phone leg).

    The one place every kind of call gets its STUN/TURN servers from: minted TURN credentials
    first (in the order of `turn_urls`), then the settings' static servers.
    """
    servers: list[IceServerSetting] = []
    expires_at: datetime | None = None
    if settings.turn_urls:
        username, password = turn_credential(
            settings.turn_secret.get_secret_value(), call_id, valid_until
        )
        servers.append(IceServerSetting(urls=settings.turn_urls, username=username,
                                        credential=password))
        expires_at = valid_until
    servers += settings.ice_servers
    return CallIce(
        ice_servers=servers,
        ice_transport_policy="relay" if settings.ice_relay_only else "all",
        expires_at=expires_at,
    )
