"""The in-process login limiter: windows per key, and a bounded table."""

import pytest

from server.security import rate_limit
from server.security.rate_limit import LoginLimiter


def test_window_slides_per_key() -> None:
    limiter = LoginLimiter(per_account=2, per_address=3, window_seconds=10)
    limiter.record_failure("Ng", "127.0.0.1", 0)
    limiter.record_failure("ng ", "127.0.0.2", 4)
    assert limiter.retry_after("NG", "127.0.0.9", 5) == 5  # the account, from any address
    assert limiter.retry_after("okafor", "127.0.0.1", 5) is None
    assert limiter.retry_after("ng", "127.0.0.9", 10) is None  # the first failure aged out
    limiter.record_failure("a", "10", 0)
    limiter.record_failure("b", "10", 1)
    limiter.record_failure("c", "10", 2)
    assert limiter.retry_after("d", "10", 3) == 7
    limiter.record_success("ng")
    assert limiter.retry_after("ng", "127.0.0.9", 5) is None


def test_many_usernames_do_not_grow_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "_SWEEP_AT", 50)
    limiter = LoginLimiter(per_account=5, per_address=10_000, window_seconds=1)
    for n in range(1000):
        limiter.record_failure(f"user{n}", "10.0.0.1", float(n))
    assert len(limiter._failures) <= 52
