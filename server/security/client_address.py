"""The client's address: the peer, or what a trusted reverse proxy says in X-Forwarded-For.

Only peers listed in the `trusted_proxies` setting may speak for the client: anyone else could
forge the header and slip past every per-address limit. uvicorn's own proxy-header handling is
off (`server.main`), so this is the one place that decides.
"""

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.requests import HTTPConnection

from server.app_state import state_of

Network = IPv4Network | IPv6Network


def parse_networks(entries: Sequence[str]) -> list[Network]:
    """Addresses or CIDR networks ("10.0.0.5", "10.1.0.0/16"); ValueError names a bad one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return networks


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        host = ip_address(address)
    except ValueError:
        return False
    return any(host in network for network in trusted)


def resolve(peer: str, forwarded_for: list[str], trusted: Sequence[Network]) -> str:
    """The client of a connection from `peer` that carried the X-Forwarded-For values given.

    Read from the right: each trusted proxy appended the address it got the request from, so
    the first address (from the right) that is not a trusted proxy is the client. Anything to
    its left was written by the client and proves nothing.
    """
    if not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            break  # garbage from a client: stop at the last address a proxy vouched for
        client = hop
        if not _trusted(hop, trusted):
            break
    return client


def client_address(connection: HTTPConnection) -> str:
    """The address the limits and the audit log use for this request or WebSocket."""
    peer = connection.client.host if connection.client else ""
    trusted = state_of(connection.app).trusted_proxies
    return resolve(peer, connection.headers.getlist("x-forwarded-for"), trusted)
