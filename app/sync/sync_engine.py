"""The sync loop: pull the server's changes, push the outbox, and keep at it.

One asyncio task on the app's loop. It runs whenever woken (a local write, a "changes" hint
from the realtime socket, a timer), backs off with jitter on network errors and 5xx (honouring
Retry-After), and re-arms itself: a queue never waits for the next local write to drain. The
backoff starts again from its shortest delay once a push gets through, and a realtime socket
that reconnects wakes the loop at once.
"""

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TypeVar

from app import fault_points
from app.store.local_store import LocalStore
from app.sync.api_client import ApiClient
from app.sync.backoff import Backoff
from app.sync.errors import Offline, ServerBusy, ServerRefused, SignInRequired
from app.sync.stop_task import stop_task
from app.sync.sync_status import Connection, SyncStatus
from shared.sync_protocol import MAX_PULL, MAX_PUSH, PROTOCOL_VERSION, PushRequest, RejectReason

log = logging.getLogger("clinicdesk.sync")
T = TypeVar("T")

#: Pull anyway this often when nothing wakes the loop (a missed hint costs at most this).
POLL_SECONDS = 60.0


async def _done(future: "Future[T]") -> T:
    return await asyncio.wrap_future(future)


class SyncEngine:
    def __init__(
        self,
        store: LocalStore,
        api: ApiClient,
        on_status: Callable[[SyncStatus], None],
        on_server_time: Callable[[datetime], object] | None = None,
        on_directory: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
        page_size: int = MAX_PULL,
    ) -> None:
        self.store = store
        self.page_size = page_size
        self.api = api
        self._on_status = on_status
        self._on_server_time = on_server_time
        self._on_directory = on_directory
        self._backoff = backoff or Backoff()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.status = SyncStatus()
        self._directory_loaded = False
        #: The newest cursor the server announced (realtime hello / changes): the progress total.
        self.head = 0

    # --- control ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._wake.set()
            self._task = asyncio.ensure_future(self._run())

    def wake(self) -> None:
        """Something changed (a local write, a hint): sync soon."""
        self._wake.set()

    def reconnected(self) -> None:
        """The realtime socket is back, so is the server: retry now, with a fresh backoff."""
        self._backoff.reset()
        self._wake.set()

    def announce_head(self, cursor: int) -> None:
        """The server's log reached `cursor` (realtime hint): pull if we are behind."""
        self.head = max(self.head, cursor)
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def sync_now(self) -> None:
        """One full cycle, raising what stops it (tests and the "Sync now" button)."""
        await self._cycle()

    # --- the loop --------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            self._wake.clear()
            delay: float | None = None
            try:
                await self._cycle()
                self._backoff.reset()
            except (Offline, ServerBusy) as error:
                retry_after = error.retry_after if isinstance(error, ServerBusy) else None
                delay = self._backoff.next_delay(retry_after)
                log.info("sync paused (%s); retrying in %.1f s", type(error).__name__, delay)
                await self._publish(Connection.OFFLINE, str(error))
            except SignInRequired as error:
                await self._publish(Connection.SIGNED_OUT, str(error))
                return  # the service restarts the engine once the user has signed in
            except ServerRefused as error:
                delay = self._backoff.cap
                log.warning("the server refuses to sync: %s", error.code or error.status)
                await self._publish(Connection.REFUSED, str(error))
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = self._backoff.next_delay()
                log.exception("sync cycle failed; retrying in %.1f s", delay)
                await self._publish(Connection.OFFLINE, "Syncing failed unexpectedly; retrying.")
            if delay is not None:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass
                self._wake.set()  # re-arm: try again even if nothing new was written

    async def _cycle(self) -> None:
        await self._publish(Connection.SYNCING)
        if not self._directory_loaded:
            await self._load_directory()
        await self._pull()
        pushed = await self._push()
        if pushed:
            await self._pull()  # the server's view of what we pushed (and what came meanwhile)
        facts = await _done(self.store.sync_facts())
        self.status = self.status.but(last_sync=facts.last_sync)
        await self._publish(Connection.ONLINE)

    async def _load_directory(self) -> None:
        staff, locations = await self.api.directory()
        await _done(self.store.replace_directory(staff, locations))
        self._directory_loaded = True
        if self._on_directory is not None:
            self._on_directory()

    async def _pull(self) -> None:
        facts = await _done(self.store.sync_facts())
        cursor, generation, scope = facts.cursor, facts.generation, facts.scope
        resyncing = facts.resyncing
        while True:
            page = await self.api.pull(cursor, self.page_size)
            if self._on_server_time is not None:
                self._on_server_time(page.server_time)
            if page.scope != scope:
                # First sync, or the user's access changed: everything again, from 0.
                log.info("sync scope changed: full re-sync")
                scope = page.scope
                generation = await _done(self.store.start_resync(scope))
                cursor, resyncing = 0, True
                continue
            fault_points.reached("pull-before-apply")
            applied = await _done(self.store.apply_page(page, generation))
            fault_points.reached("pull-after-apply")
            cursor = page.cursor
            self.head = max(self.head, cursor, page.head or 0)
            if page.has_more:
                self.status = self.status.but(progress=(cursor, self.head))
                await self._publish(Connection.SYNCING)
            if applied.unknown_directory:
                await self._load_directory()
            if not page.has_more:
                break
        if resyncing:
            await _done(self.store.finish_resync(generation))
        self.status = self.status.but(progress=None)

    async def _push(self) -> bool:
        """Push the outbox until empty; True if anything was sent."""
        facts = await _done(self.store.sync_facts())
        pushed = False
        while True:
            batch = await _done(self.store.next_batch(MAX_PUSH))
            if not batch:
                return pushed
            fault_points.reached("push-before-send")
            results = await self.api.push(
                PushRequest(protocol=PROTOCOL_VERSION, client_id=facts.client_id,
                            mutations=batch)
            )
            fault_points.reached("push-after-answer")
            await _done(self.store.resolve(results))
            # Progress: the server is back. Failures before it say nothing about the next one
            # (a server restarted eight times must not leave the queue waiting 30 s).
            self._backoff.reset()
            pushed = True
            await self._publish(Connection.SYNCING)
            if all(r.reason is RejectReason.CONFLICT for r in results):
                raise ServerBusy("The server could not decide these changes yet; retrying.")

    async def _publish(self, connection: Connection, message: str = "") -> None:
        pending, rejected = await _done(self.store.sync_counts())
        self.status = self.status.but(
            connection=connection, message=message, pending=pending, rejected=rejected
        )
        self._on_status(self.status)
