"""The clock, injectable so that tests can set the time (the edge of the world)."""

from datetime import UTC, datetime, timedelta


class Clock:
    """The current time, timezone-aware in UTC; the UI shows it in the workstation's zone."""

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)


class FixedClock(Clock):
    """A clock that stands still until moved: for tests, benchmarks and the self-test."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, seconds: float) -> None:
        self._at = self._at + timedelta(seconds=seconds)


class ServerClock(Clock):
    """The workstation's clock corrected to the server's: every timestamp is server time, and
    a workstation an hour off must still show the right waiting times and accept bookings."""

    #: Differences below this are network delay, not a wrong clock: ignored.
    TOLERANCE = timedelta(seconds=2)

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def workstation_now(self) -> datetime:
        """The workstation's own idea of the time (tests make it wrong on purpose)."""
        return datetime.now(UTC)

    def now(self) -> datetime:
        return (self.workstation_now() + self.offset).replace(microsecond=0)

    def observe(self, server_time: datetime) -> bool:
        """The server said it is `server_time` (just now); True if the offset changed."""
        offset = server_time - self.workstation_now()
        if abs(offset - self.offset) < self.TOLERANCE:
            return False
        self.offset = offset
        return True
