"""Failed-attempt limits kept in this process's memory: sign-in throttling and link guessing.

Sign-in failures are throttled per (account, address) with growing delays, never a hard lock a
stranger could trigger: the owner's password from another address still works. One address
also has a ceiling of failures over all accounts (password spraying).

Each server process counts on its own: with N processes behind a balancer an attacker gets at
most N times the allowance. Enough for one clinic; a shared store is future work.
"""

import threading
from collections import deque
from dataclasses import dataclass
from math import ceil

#: Past this many keys, a failure first drops the keys that have aged out, so guessing many
#: usernames cannot grow a table without bound.
_SWEEP_AT = 10_000


def _wait(seconds: float) -> int | None:
    return max(1, ceil(seconds)) if seconds > 0 else None


class SlidingWindow:
    """At most `limit` failures per key within `window_seconds`; then wait for one to age out."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, now: float) -> int | None:
        """Seconds until another failure may be tried, or None when it may be now."""
        with self._lock:
            times = self._prune(key, now)
            if times is None or len(times) < self.limit:
                return None
            return _wait(times[0] + self._window - now)

    def record(self, key: str, now: float) -> bool:
        """Count a failure; True when it is the one that reaches the limit."""
        with self._lock:
            if len(self._failures) >= _SWEEP_AT:
                for old in list(self._failures):
                    self._prune(old, now)
            times = self._failures.setdefault(key, deque())
            times.append(now)
            return len(times) == self.limit

    def __len__(self) -> int:
        return len(self._failures)

    def _prune(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an attempt must wait: "account" (this account from this address) or "address"."""

    scope: str
    seconds: int


@dataclass(slots=True)
class _Streak:
    failures: int
    last: float


class LoginThrottle:
    """Growing delays per (account, address) after a few free failures, and a ceiling per address.

    After `free_failures` failures in a row for an account from one address, each further attempt
    from there waits: `base_delay` seconds, doubling per failure up to `max_delay`. A success, or
    `window_seconds` without a failure, forgets the streak.
    """

    def __init__(
        self,
        free_failures: int,
        base_delay: float,
        max_delay: float,
        address_ceiling: int,
        window_seconds: float,
    ) -> None:
        self._free = free_failures
        self._base = base_delay
        self._max = max_delay
        self._window = window_seconds
        self._streaks: dict[tuple[str, str], _Streak] = {}
        self._addresses = SlidingWindow(address_ceiling, window_seconds)
        self._lock = threading.Lock()

    @staticmethod
    def _key(account: str, address: str) -> tuple[str, str]:
        return account.strip().lower(), address

    def delay(self, failures: int) -> float:
        """The wait after `failures` failures in a row (0 while they are free)."""
        over = failures - self._free
        return 0.0 if over < 0 else min(self._max, self._base * 2**over)

    def retry_after(self, account: str, address: str, now: float) -> Refusal | None:
        """Why and how long this attempt must wait, or None when it may be tried now."""
        with self._lock:
            streak = self._streak(self._key(account, address), now)
            if streak is not None:
                wait = _wait(streak.last + self.delay(streak.failures) - now)
                if wait is not None:
                    return Refusal("account", wait)
        ceiling = self._addresses.retry_after(address, now)
        return Refusal("address", ceiling) if ceiling is not None else None

    def record_failure(self, account: str, address: str, now: float) -> list[Refusal]:
        """Count a failure; what it started: a delay for the account, the address's ceiling."""
        started: list[Refusal] = []
        key = self._key(account, address)
        with self._lock:
            if len(self._streaks) >= _SWEEP_AT:
                for old in list(self._streaks):
                    self._streak(old, now)
            streak = self._streak(key, now) or self._streaks.setdefault(key, _Streak(0, now))
            streak.failures += 1
            streak.last = now
            delay = self.delay(streak.failures)
            if delay > 0:
                started.append(Refusal("account", ceil(delay)))
        if self._addresses.record(address, now):
            started.append(Refusal("address", ceil(self._window)))
        return started

    def record_success(self, account: str, address: str) -> None:
        """A correct password ends the streak of this account from this address."""
        with self._lock:
            self._streaks.pop(self._key(account, address), None)

    def __len__(self) -> int:
        return len(self._streaks)

    def _streak(self, key: tuple[str, str], now: float) -> _Streak | None:
        streak = self._streaks.get(key)
        if streak is not None and now - streak.last > self._window + self.delay(streak.failures):
            del self._streaks[key]
            return None
        return streak
