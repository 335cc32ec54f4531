"""ICE for a call: the STUN/TURN servers from the server's settings, and the interfaces ICE may use.

aioice gathers host candidates on every address of the machine except 127.0.0.1 (its module
function `get_host_addresses` decides). Clinic Desk replaces that function once with one that,
inside `confined_to(...)`, offers only the chosen addresses: a context variable, so two calls (or
two test peers) in one process each keep their own choice, and outside any call nothing changes.

aiortc and aioice are imported where a call needs them, not with this module: the sync's API
client reads `IceServer` from here, and the schedule's first window must not wait for WebRTC.
"""

import ipaddress
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import ifaddr

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiortc import RTCConfiguration

LOOPBACK = "127.0.0.1"

_allowed: ContextVar[tuple[str, ...] | None] = ContextVar("clinicdesk_ice_hosts", default=None)
#: aioice's own `get_host_addresses`, kept by `install` when it replaces it.
_original_get_host_addresses: "Callable[[bool, bool], list[str]] | None" = None


@dataclass(frozen=True, slots=True)
class IceServer:
    """One STUN or TURN server as the server's settings give it (RTCIceServer's fields)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class IcePolicy:
    """The servers to ask and the interfaces (names like "eth0" or addresses) ICE may use.

    No interfaces: every interface aioice would pick. No servers: host candidates only (aiortc
    would otherwise ask a public STUN server, which a hospital network may not allow).
    """

    servers: tuple[IceServer, ...] = ()
    interfaces: tuple[str, ...] = ()
    relay_only: bool = False

    @classmethod
    def loopback(cls) -> "IcePolicy":
        """Tests and the bench: 127.0.0.1 only, no servers."""
        return cls(interfaces=(LOOPBACK,))

    def with_servers(self, servers: Sequence[IceServer], relay_only: bool = False) -> "IcePolicy":
        """This policy with a call's servers (from the server: TURN credentials minted for it)
        first and its own kept after; relay only when either says so."""
        known = {url for server in servers for url in server.urls}
        own = [s for s in self.servers if not set(s.urls) & known]
        return replace(self, servers=(*servers, *own), relay_only=self.relay_only or relay_only)


def rtc_configuration(policy: IcePolicy) -> "RTCConfiguration":
    from aiortc import RTCConfiguration, RTCIceServer
    from aiortc.rtcconfiguration import RTCIceTransportPolicy

    servers = [
        RTCIceServer(urls=list(server.urls), username=server.username,
                     credential=server.credential)
        for server in policy.servers
    ]
    return RTCConfiguration(
        iceServers=servers,
        iceTransportPolicy=(
            RTCIceTransportPolicy.RELAY if policy.relay_only else RTCIceTransportPolicy.ALL
        ),
    )


def offer_ice(policy: IcePolicy) -> dict[str, object]:
    """What the offer tells the far side (the patient's page): every server, all its URLs, with
    the call's credentials (never a secret: the server keeps that), and the transport policy."""
    ice: dict[str, object] = {}
    if policy.servers:
        ice["ice_servers"] = [
            {key: value for key, value in (("urls", list(server.urls)),
                                           ("username", server.username),
                                           ("credential", server.credential)) if value}
            for server in policy.servers
        ]
    if policy.relay_only:
        ice["ice_transport_policy"] = "relay"
    return ice


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def resolve_interfaces(interfaces: Sequence[str]) -> list[str]:
    """The addresses of the named interfaces (or the addresses given as such), in order."""
    addresses: list[str] = []
    adapters = None
    for entry in interfaces:
        if _is_address(entry):
            found = [entry]
        else:
            if adapters is None:
                adapters = ifaddr.get_adapters()
            found = []
            for adapter in adapters:
                if entry not in (adapter.name, adapter.nice_name):
                    continue
                for ip in adapter.ips:
                    if isinstance(ip.ip, str):
                        found.append(ip.ip)
                    elif ip.ip[2] == 0:  # IPv6 without a scope (no link-local)
                        found.append(ip.ip[0])
        addresses.extend(address for address in found if address not in addresses)
    return addresses


def _limited_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    allowed = _allowed.get()
    if allowed is None:
        assert _original_get_host_addresses is not None  # installed before it is called
        return _original_get_host_addresses(use_ipv4, use_ipv6)
    return [
        address for address in allowed
        if (":" in address and use_ipv6) or (":" not in address and use_ipv4)
    ]


def install() -> None:
    """Let `confined_to` decide aioice's host candidates (idempotent)."""
    global _original_get_host_addresses
    import aioice.ice

    if aioice.ice.get_host_addresses is not _limited_host_addresses:
        _original_get_host_addresses = aioice.ice.get_host_addresses
        aioice.ice.get_host_addresses = _limited_host_addresses


@contextmanager
def confined_to(addresses: Sequence[str] | None) -> Iterator[None]:
    """Within the block (this task's context), ICE gathers host candidates on `addresses`.

    None leaves aioice's own choice. An empty list gathers no host candidate (relay only).
    """
    install()
    token = _allowed.set(None if addresses is None else tuple(addresses))
    try:
        yield
    finally:
        _allowed.reset(token)


def host_addresses(policy: IcePolicy) -> list[str] | None:
    """The addresses ICE may use under `policy` (None: no limit)."""
    if not policy.interfaces:
        return None
    return resolve_interfaces(policy.interfaces)


def candidate_addresses(sdp: str) -> list[str]:
    """The connection address of every `a=candidate` line of a session description."""
    found: list[str] = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            fields = line.split()
            if len(fields) >= 5:
                found.append(fields[4])
    return found
