"""The knobs of one call: ICE, audio only, and the timings (shorter in tests)."""

from dataclasses import dataclass, field

from app.media.ice_config import IcePolicy


@dataclass(frozen=True, slots=True)
class CallOptions:
    ice: IcePolicy = field(default_factory=IcePolicy)
    #: A phone-kind appointment: the same path without video.
    audio_only: bool = False
    #: How long the first connection may take before the call is given up.
    connect_timeout: float = 30.0
    #: How long to keep trying to restore a lost connection before ending the call.
    reconnect_timeout: float = 30.0
    #: How long one reconnection attempt (a fresh offer) waits for its answer and ICE.
    attempt_timeout: float = 5.0
    #: No packet received for this long (while connected) counts as a lost connection.
    stall_timeout: float = 4.0
    #: How often getStats() is read for the quality indicator and the stall check.
    stats_interval: float = 1.0
    #: How long a TURN path may take to allocate before it counts as blocked (relay_probe).
    relay_probe_timeout: float = 2.0
