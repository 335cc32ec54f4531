"""Running the app's asyncio code in Qt tests: a qasync loop over the test's QApplication."""

import asyncio
import gc
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import qasync

from tests.polling import eventually

T = TypeVar("T")


class QtLoop:
    def __init__(self, loop: qasync.QEventLoop) -> None:
        self.loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        # Not run_until_complete: qasync's version processes Qt events once more after the loop
        # stopped, stepping tasks with no running loop (httpx/anyio then fail). The app calls it
        # once, at exit; tests call this many times.
        future = asyncio.ensure_future(asyncio.wait_for(coroutine, timeout), loop=self.loop)
        future.add_done_callback(lambda _done: self.loop.stop())
        self.loop.run_forever()
        result: T = future.result()
        return result

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> float:
        """Run the loop (Qt events and asyncio tasks) until `condition()`; seconds it took."""
        started = time.monotonic()
        # Its own deadline fails first, naming the condition; run's is only a backstop.
        self.run(eventually(condition, timeout, interval=0.005), timeout + 5)
        return time.monotonic() - started


@contextmanager
def qt_loop(qapp: object) -> Iterator[QtLoop]:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield QtLoop(loop)
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            async def settle() -> None:
                await asyncio.gather(*pending, return_exceptions=True)

            QtLoop(loop).run(settle())
        loop.close()  # also stops the loop's thread pool (asyncio.to_thread)
        asyncio.set_event_loop(None)
        del loop
        # Free the loop's and the window's Qt objects here, on the GUI thread: left to Python's
        # collector they may be freed on whichever thread allocates next (a store worker), and
        # Qt objects with timers must not die on another thread.
        gc.collect()
