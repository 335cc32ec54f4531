"""Which path a call's media took: direct (host), through a NAT (server-reflexive) or relayed.

aiortc's getStats() has no candidate-pair entries, so the path is read from the pair its ICE
agent (aioice) nominated, and the relay's transport (UDP, TCP or TLS to the TURN server) from
the route the relay probe chose. The patient's page reads the same from its own getStats().
"""

from dataclasses import dataclass
from enum import StrEnum

from aiortc import RTCPeerConnection

from app.media.relay_probe import RelayRoute, RelayTransport


class CandidateKind(StrEnum):
    HOST = "host"
    SERVER_REFLEXIVE = "srflx"
    PEER_REFLEXIVE = "prflx"
    RELAY = "relay"


_WORDS = {
    CandidateKind.HOST: "direct (host)",
    CandidateKind.SERVER_REFLEXIVE: "direct through NAT (server-reflexive)",
    CandidateKind.PEER_REFLEXIVE: "direct through NAT (peer-reflexive)",
}


@dataclass(frozen=True, slots=True)
class CallPath:
    """This side's end of the nominated pair, the far end's, and the relay's transport."""

    local: CandidateKind
    remote: CandidateKind
    relay: RelayTransport | None = None

    def summary(self) -> str:
        if self.local is CandidateKind.RELAY:
            return f"relay {self.relay.value}" if self.relay else "relay"
        if self.remote is CandidateKind.RELAY:
            return "through the patient's relay"
        return _WORDS[self.local]


def call_path(pc: RTCPeerConnection, route: RelayRoute | None) -> CallPath | None:
    """The path of `pc`'s media (its first transport's nominated pair); None before one."""
    transports = [t.sender.transport for t in pc.getTransceivers() if t.sender.transport]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    for dtls in transports:
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            continue
        try:
            local = CandidateKind(pair.local_candidate.type)
            remote = CandidateKind(pair.remote_candidate.type)
        except ValueError:
            return None
        relay = route.transport if route is not None and local is CandidateKind.RELAY else None
        return CallPath(local, remote, relay)
    return None
