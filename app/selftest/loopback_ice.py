"""Keep ICE on loopback: aioice offers only the given host addresses, and SDP is checked for it.

aioice leaves 127.0.0.1 out of its host candidates, so two peers on a machine with only loopback
never connect, and on any other machine they would use its real addresses. Its module function
`get_host_addresses` decides the host candidates; the self-test replaces it for its call only.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import aioice.ice

LOOPBACK = "127.0.0.1"


@contextmanager
def host_addresses_limited_to(addresses: Sequence[str]) -> Iterator[None]:
    """Within the block, ICE gathers host candidates on `addresses` only (no other interface)."""
    chosen = list(addresses)
    original = aioice.ice.get_host_addresses

    def limited(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [
            address for address in chosen
            if (":" in address and use_ipv6) or (":" not in address and use_ipv4)
        ]

    aioice.ice.get_host_addresses = limited
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = original


def candidate_addresses(sdp: str) -> list[str]:
    """The connection address of every `a=candidate` line of a session description."""
    found: list[str] = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            fields = line.split()
            if len(fields) >= 5:
                found.append(fields[4])
    return found
