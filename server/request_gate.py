"""ASGI middleware that lets a bounded number of HTTP requests run at once; the rest wait.

Why: a request's sync dependencies and its endpoint run on different worker threads, and its
transaction (on SQLite: BEGIN IMMEDIATE, holding the file's write lock) is already open in
between. With more requests in flight than worker threads, every thread can end up waiting for
that lock while its holder waits for a thread: nothing moves until the busy timeout fails them
all. Waiting here costs no thread, and the bound keeps threads (and pooled connections) free.
"""

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

#: Well below AnyIO's 40 worker threads and the database pool (15 on SQLite, 30 on PostgreSQL).
MAX_CONCURRENT_REQUESTS = 12


class RequestGate:
    def __init__(self, app: ASGIApp, limit: int = MAX_CONCURRENT_REQUESTS) -> None:
        self.app = app
        self.limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(limit)

    def _gate(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; tests run one app on several in turn.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._slots = loop, asyncio.Semaphore(self.limit)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self._gate():
            await self.app(scope, receive, send)
