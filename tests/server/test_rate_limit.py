"""The in-process limits: growing delays per (account, address), windows, bounded tables."""

import pytest

from server.security import rate_limit
from server.security.rate_limit import LoginThrottle, Refusal, SlidingWindow


def test_delays_grow_per_account_and_address_and_stop_at_the_ceiling() -> None:
    throttle = LoginThrottle(
        free_failures=2, base_delay=5, max_delay=30, address_ceiling=100, window_seconds=600
    )
    assert throttle.record_failure("Ng", "10.0.0.1", 0) == []
    assert throttle.retry_after("NG", "10.0.0.1", 1) is None
    assert throttle.record_failure("ng ", "10.0.0.1", 1) == [Refusal("account", 5)]
    assert throttle.retry_after("ng", "10.0.0.1", 2) == Refusal("account", 4)  # 2 were free
    assert throttle.retry_after("ng", "10.0.0.2", 2) is None  # the owner elsewhere
    assert throttle.retry_after("okafor", "10.0.0.1", 2) is None
    assert [throttle.delay(n) for n in range(1, 7)] == [0, 5, 10, 20, 30, 30]
    throttle.record_success("ng", "10.0.0.1")
    assert throttle.retry_after("ng", "10.0.0.1", 2) is None


def test_a_streak_is_forgotten_after_the_window() -> None:
    throttle = LoginThrottle(2, 5, 30, 100, window_seconds=60)
    throttle.record_failure("ng", "10.0.0.1", 0)
    throttle.record_failure("ng", "10.0.0.1", 0)
    assert throttle.retry_after("ng", "10.0.0.1", 4) == Refusal("account", 1)
    throttle.record_failure("ng", "10.0.0.1", 70)  # a fresh streak: the first is free again
    assert throttle.retry_after("ng", "10.0.0.1", 70) is None


def test_one_address_has_a_ceiling_over_all_accounts() -> None:
    throttle = LoginThrottle(5, 5, 30, address_ceiling=3, window_seconds=10)
    throttle.record_failure("a", "10", 0)
    throttle.record_failure("b", "10", 1)
    assert throttle.record_failure("c", "10", 2) == [Refusal("address", 10)]
    assert throttle.retry_after("d", "10", 3) == Refusal("address", 7)
    assert throttle.retry_after("d", "11", 3) is None


def test_a_window_slides_per_key() -> None:
    window = SlidingWindow(limit=2, window_seconds=10)
    window.record("x", 0)
    assert window.record("x", 4) is True
    assert window.retry_after("x", 5) == 5
    assert window.retry_after("y", 5) is None
    assert window.retry_after("x", 10) is None  # the first failure aged out


def test_many_usernames_do_not_grow_the_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "_SWEEP_AT", 50)
    throttle = LoginThrottle(5, 1, 1, address_ceiling=10_000, window_seconds=1)
    window = SlidingWindow(limit=5, window_seconds=1)
    for n in range(1000):
        throttle.record_failure(f"user{n}", "10.0.0.1", float(n))
        window.record(f"address{n}", float(n))
    assert len(throttle) <= 52
    assert len(window) <= 52
