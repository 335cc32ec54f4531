"""A worker's wake-up: set from any thread after a commit, awaited on the worker's loop."""

import asyncio


class Wakeable:
    """What the invite and outbound HL7 workers share: wake() from any thread, and a pause on
    the worker's loop that ends at the wake, at stop, or after a time."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for work now (after a commit that queued some); any thread may call it."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def _attach(self) -> None:
        """Run on the current loop (the worker's first step)."""
        self._loop = asyncio.get_running_loop()

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        """Wait for a wake, `stop` or `seconds`; the wake is spent."""
        waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self._wake)]
        try:
            await asyncio.wait(waiters, timeout=seconds)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()
