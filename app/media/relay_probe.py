"""Which TURN path this desktop can reach, in the offered order (UDP, then TCP, then TLS).

aiortc (aioice) gathers through a single TURN server per connection, and a hospital firewall may
drop UDP or everything but 443. So before each offer the desktop allocates on every TURN URL at
once and keeps the first, in the offered order, that works; aiortc is then given that one URL.
A refusal by the server (401: the credentials expired or are forged) is told apart from a server
that cannot be reached, so the clinician is told which.
"""

import asyncio
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from aioice import stun
from aioice.turn import create_turn_endpoint
from aiortc.rtcicetransport import parse_stun_turn_uri

from app.media.ice_config import IcePolicy, IceServer

log = logging.getLogger("clinicdesk.media")

#: A TURN server that has not allocated within this long counts as unreachable (a firewall that
#: drops packets gives no answer at all).
PROBE_TIMEOUT = 2.0
#: Once a later path works, an earlier one still gets this long to answer. An open earlier
#: path has nearly always answered by then: UDP allocates in fewer steps than TCP, and TCP in
#: fewer than TLS, all at once from the same loop. (It used to get as long again as the later
#: one took: under load that doubled a TLS call's probe, ~100 ms, for a path that was dropped.)
GRACE = 0.02


class RelayTransport(StrEnum):
    """How this side reaches the TURN server."""

    UDP = "UDP"
    TCP = "TCP"
    TLS = "TLS"


@dataclass(frozen=True, slots=True)
class RelayRoute:
    """One TURN URL with its credentials: the path aiortc is given."""

    server: IceServer
    transport: RelayTransport


@dataclass(frozen=True, slots=True)
class RelayProbe:
    """The route chosen (None: none worked) and the URLs refused or not reached."""

    route: RelayRoute | None
    refused: tuple[str, ...] = ()
    unreachable: tuple[str, ...] = ()


def turn_routes(servers: Sequence[IceServer]) -> list[RelayRoute]:
    """Every TURN URL of `servers` as a route, in their order (STUN and unusable URLs left out)."""
    routes: list[RelayRoute] = []
    for server in servers:
        for url in server.urls:
            if not url.startswith(("turn:", "turns:")):
                continue
            try:
                parsed = parse_stun_turn_uri(url)
            except ValueError:
                log.warning("ignored a malformed TURN URL: %s", url)
                continue
            if parsed["scheme"] == "turns":
                transport = RelayTransport.TLS
            elif parsed["transport"] == "tcp":
                transport = RelayTransport.TCP
            elif parsed["transport"] == "udp":
                transport = RelayTransport.UDP
            else:
                continue
            routes.append(RelayRoute(IceServer((url,), server.username, server.credential),
                                     transport))
    return routes


class NoRelayPath(Exception):
    """The call must be relayed and no TURN path works: `refused` when the server turned the
    credentials down (expired or forged), else none of the paths answered."""

    def __init__(self, refused: bool) -> None:
        super().__init__("refused" if refused else "unreachable")
        self.refused = refused


class _Refused(Exception):
    """The TURN server answered with an error (bad or expired credentials, quota)."""


async def _allocate(route: RelayRoute, timeout: float) -> None:
    """Allocate on `route` and give the allocation back; _Refused or OSError/TimeoutError."""
    parsed = parse_stun_turn_uri(route.server.urls[0])
    try:
        transport, _protocol = await asyncio.wait_for(
            create_turn_endpoint(
                asyncio.DatagramProtocol,
                server_addr=(parsed["host"], parsed["port"]),
                username=route.server.username,
                password=route.server.credential,
                ssl=route.transport is RelayTransport.TLS,
                transport="udp" if route.transport is RelayTransport.UDP else "tcp",
            ),
            timeout,
        )
    except stun.TransactionFailed as error:
        raise _Refused(str(error.response.error_code)) from None
    except (stun.TransactionTimeout, ssl.SSLError, ConnectionError) as error:
        raise OSError(str(error)) from None
    transport.close()  # deletes the allocation in the background


def through(policy: IcePolicy, route: RelayRoute | None) -> IcePolicy:
    """`policy` for aiortc: its STUN servers and the one TURN route chosen (if any)."""
    stun_only = tuple(
        IceServer(urls) for urls in (
            tuple(url for url in server.urls if url.startswith(("stun:", "stuns:")))
            for server in policy.servers
        ) if urls
    )
    return replace(policy, servers=stun_only + ((route.server,) if route is not None else ()))


async def relayed_policy(
    policy: IcePolicy, timeout: float = PROBE_TIMEOUT
) -> tuple[IcePolicy, RelayRoute | None]:
    """`policy` for one aiortc peer connection and the TURN route it goes through (if any).

    Without TURN URLs `policy` is used as it is. Raises NoRelayPath when the media must be
    relayed and no path works; otherwise a failed probe leaves the direct path (logged).
    """
    if not turn_routes(policy.servers):
        return policy, None
    probe = await probe_relays(policy.servers, timeout)
    if probe.route is None and policy.relay_only:
        raise NoRelayPath(refused=bool(probe.refused))
    if probe.route is None:
        log.warning("no TURN relay path works (refused %d, unreachable %d): direct only",
                    len(probe.refused), len(probe.unreachable))
    return through(policy, probe.route), probe.route


async def probe_relays(servers: Sequence[IceServer], timeout: float = PROBE_TIMEOUT) -> RelayProbe:
    """Try every TURN URL at once; the first in the offered order that allocates wins.

    A later path that works does not wait the whole timeout for an earlier one: a path the
    firewall drops never answers, and an open UDP path normally answers before TCP or TLS can.
    Earlier paths get GRACE more to answer.
    """
    routes = turn_routes(servers)
    if not routes:
        return RelayProbe(None)
    loop = asyncio.get_running_loop()
    tasks = [asyncio.ensure_future(_allocate(route, timeout)) for route in routes]
    outcome: list[str | None] = [None] * len(routes)
    pending = set(tasks)
    deadline: float | None = None
    chosen: RelayRoute | None = None
    try:
        while pending:
            wait = None if deadline is None else max(0.0, deadline - loop.time())
            done, pending = await asyncio.wait(
                pending, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                outcome[tasks.index(task)] = _outcome(routes[tasks.index(task)], task)
            first = next((i for i, result in enumerate(outcome) if result == "ok"), None)
            if first is None:
                continue
            if all(result is not None for result in outcome[:first]) or (
                    deadline is not None and loop.time() >= deadline):
                chosen = routes[first]
                break
            if deadline is None:
                deadline = loop.time() + GRACE
    finally:
        for task in tasks:
            task.cancel()
        # Collect the others' outcomes (a success not chosen has given its allocation back).
        await asyncio.gather(*tasks, return_exceptions=True)
    if chosen is not None:
        log.info("calls go through the TURN relay over %s", chosen.transport.value)
    return RelayProbe(
        chosen,
        tuple(r.server.urls[0] for r, result in zip(routes, outcome, strict=True)
              if result == "refused"),
        tuple(r.server.urls[0] for r, result in zip(routes, outcome, strict=True)
              if result in ("unreachable", None)),
    )


def _outcome(route: RelayRoute, task: "asyncio.Future[None]") -> str:
    url = route.server.urls[0]
    error = task.exception()
    if error is None:
        return "ok"
    if isinstance(error, _Refused):
        log.warning("the TURN server refused %s (error %s)", url, error)
        return "refused"
    log.info("no TURN allocation over %s: %r", url, error)
    return "unreachable"
