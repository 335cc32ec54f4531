"""Connection quality from successive getStats() reports: round-trip time, loss, bitrate."""

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from aiortc import RTCStatsReport
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCTransportStats,
)

if TYPE_CHECKING:
    from app.media.call_path import CallPath

#: Above these a connection is poor (the clinician is warned) or fair.
POOR_RTT = 0.400
FAIR_RTT = 0.200
POOR_LOSS = 0.05
FAIR_LOSS = 0.02


class QualityLevel(StrEnum):
    UNKNOWN = "unknown"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


@dataclass(frozen=True, slots=True)
class CallQuality:
    """One sample: rtt in seconds (None before the first RTCP report), loss 0..1, bits/s."""

    level: QualityLevel
    rtt: float | None
    loss: float
    bitrate_in: float
    bitrate_out: float
    packets_received: int
    #: Anything at all came in (media, RTCP, data channel): a muted, camera-off peer that
    #: sends no RTP still sends receiver reports, so silence here means the peer is gone.
    heard_from_peer: bool = True
    #: The path the media took (host, server-reflexive, relay UDP/TCP/TLS), once known.
    path: "CallPath | None" = None

    def summary(self) -> str:
        rtt = "–" if self.rtt is None else f"{self.rtt * 1000:.0f} ms"
        path = f", path {self.path.summary()}" if self.path is not None else ""
        return (
            f"{self.level.value}: round trip {rtt}, loss {self.loss * 100:.1f}%, "
            f"in {self.bitrate_in / 1000:.0f} kbit/s, out {self.bitrate_out / 1000:.0f} kbit/s"
            f"{path}"
        )


def level_for(rtt: float | None, loss: float) -> QualityLevel:
    if (rtt is not None and rtt > POOR_RTT) or loss > POOR_LOSS:
        return QualityLevel.POOR
    if (rtt is not None and rtt > FAIR_RTT) or loss > FAIR_LOSS:
        return QualityLevel.FAIR
    return QualityLevel.GOOD


@dataclass(frozen=True, slots=True)
class _Totals:
    at: float
    received: int
    lost: int
    bytes_in: int
    bytes_out: int


class QualityMeter:
    """Feed it each report; it answers with the quality since the previous one."""

    def __init__(self) -> None:
        self._last: _Totals | None = None

    def reset(self) -> None:
        """A new peer connection: its counters start again from zero."""
        self._last = None

    def sample(self, report: RTCStatsReport, now: float | None = None) -> CallQuality:
        at = time.monotonic() if now is None else now
        received = lost = bytes_in = bytes_out = 0
        rtts: list[float] = []
        for stats in report.values():
            if isinstance(stats, RTCInboundRtpStreamStats):
                received += stats.packetsReceived
                lost += max(0, stats.packetsLost)
            elif isinstance(stats, RTCRemoteInboundRtpStreamStats):
                if stats.roundTripTime:
                    rtts.append(stats.roundTripTime)
            elif isinstance(stats, RTCTransportStats):
                bytes_in += stats.bytesReceived
                bytes_out += stats.bytesSent
        totals = _Totals(at, received, lost, bytes_in, bytes_out)
        last, self._last = self._last, totals
        rtt = max(rtts) if rtts else None
        if last is None or totals.at <= last.at:
            loss = lost / (lost + received) if lost + received else 0.0
            return CallQuality(level_for(rtt, loss), rtt, loss, 0.0, 0.0, received,
                               received > 0 or bytes_in > 0)
        elapsed = totals.at - last.at
        new_received = max(0, received - last.received)
        new_lost = max(0, lost - last.lost)
        loss = new_lost / (new_lost + new_received) if new_lost + new_received else 0.0
        return CallQuality(
            level_for(rtt, loss),
            rtt,
            loss,
            max(0, bytes_in - last.bytes_in) * 8 / elapsed,
            max(0, bytes_out - last.bytes_out) * 8 / elapsed,
            new_received,
            new_received > 0 or bytes_in > last.bytes_in,
        )
