"""Waiting for a condition in tests: the one poll loop, for async tests and for blocking ones.

Tests wait on the condition they need, never for a fixed time (a fixed sleep is too short on
a loaded machine and wastes time on an idle one).
"""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

#: How long a condition may take before the test fails (generous: the test machines are busy).
DEADLINE = 20.0
INTERVAL = 0.02


class _Deadline:
    def __init__(self, timeout: float, condition: object, what: str) -> None:
        self._at = time.monotonic() + timeout
        self._timeout = timeout
        self._what = what or getattr(condition, "__qualname__", repr(condition))

    def check(self) -> None:
        if time.monotonic() > self._at:
            raise AssertionError(f"timed out after {self._timeout:g} s waiting for {self._what}")


@overload
async def eventually(
    condition: Callable[[], Awaitable[T]], timeout: float = ..., what: str = ...,
    interval: float = ...,
) -> T: ...


@overload
async def eventually(
    condition: Callable[[], T], timeout: float = ..., what: str = ..., interval: float = ...,
) -> T: ...


async def eventually(
    condition: Callable[[], object],
    timeout: float = DEADLINE,
    what: str = "",
    interval: float = INTERVAL,
) -> Any:
    """Poll `condition` on the running loop until it is truthy; its value. The condition may
    be a plain function or return an awaitable (a page's evaluate, a store query)."""
    deadline = _Deadline(timeout, condition, what)
    while True:
        value: object = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        deadline.check()
        await asyncio.sleep(interval)


def wait_until(
    condition: Callable[[], T], timeout: float = DEADLINE, what: str = "",
    interval: float = INTERVAL,
) -> T:
    """The same for a test with no running event loop: blocks this thread while it polls."""
    deadline = _Deadline(timeout, condition, what)
    while True:
        value = condition()
        if value:
            return value
        deadline.check()
        time.sleep(interval)
