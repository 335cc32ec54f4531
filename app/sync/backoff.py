"""Exponential backoff with full jitter, honouring a server's Retry-After."""

import random


class Backoff:
    """Delays of 0..min(cap, base * 2**n) seconds for the n-th failure in a row."""

    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        delay = self._rng.uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            # The server knows best, but never wait longer than the cap for a busy server.
            delay = max(delay, min(retry_after, self.cap))
        return delay

    def reset(self) -> None:
        self.failures = 0
