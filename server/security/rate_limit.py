"""Failed-login limiter, per account and per client address, kept in this process's memory.

Each server process counts on its own: with N processes behind a balancer an attacker gets at
most N times the allowance. Enough for one clinic; a shared store is future work.
"""

import threading
from collections import deque
from math import ceil

#: Past this many keys, a failure first drops the keys whose failures have all aged out, so
#: guessing many usernames cannot grow the table without bound.
_SWEEP_AT = 10_000


class LoginLimiter:
    """A sliding window of failure times per key; a key at its limit waits for one to age out."""

    def __init__(self, per_account: int, per_address: int, window_seconds: float) -> None:
        self._limits = {"account": per_account, "address": per_address}
        self._window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, account: str, address: str) -> list[tuple[str, str]]:
        return [("account", account.strip().lower()), ("address", address)]

    def retry_after(self, account: str, address: str, now: float) -> int | None:
        """Seconds until another attempt is allowed, or None when it is allowed now."""
        wait = 0.0
        with self._lock:
            for key in self._keys(account, address):
                times = self._prune(key, now)
                if times is not None and len(times) >= self._limits[key[0]]:
                    wait = max(wait, times[0] + self._window - now)
        return max(1, ceil(wait)) if wait > 0 else None

    def record_failure(self, account: str, address: str, now: float) -> None:
        with self._lock:
            if len(self._failures) >= _SWEEP_AT:
                for key in list(self._failures):
                    self._prune(key, now)
            for key in self._keys(account, address):
                self._failures.setdefault(key, deque()).append(now)

    def record_success(self, account: str) -> None:
        """A correct password clears the account's count (not the address's)."""
        with self._lock:
            self._failures.pop(("account", account.strip().lower()), None)

    def _prune(self, key: tuple[str, str], now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
