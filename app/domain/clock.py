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
