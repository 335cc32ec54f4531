"""The one thread that touches the store file: writes are serialized, the GUI never waits."""

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

T = TypeVar("T")
log = logging.getLogger("clinicdesk.store")


class StoreWorker:
    """Runs jobs `fn(session)` one at a time on a dedicated thread, each in its own transaction.

    A job that returns normally is committed; one that raises is rolled back and its exception
    is set on the returned future.
    """

    def __init__(self, engine: Engine, local_only: bool = False) -> None:
        self._engine = engine
        self._local_only = local_only
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clinicdesk-store")

    def submit(self, job: Callable[[Session], T]) -> "Future[T]":
        return self._executor.submit(self._run, job)

    def _run(self, job: Callable[[Session], T]) -> T:
        with Session(self._engine, expire_on_commit=False) as session:
            # A store with no server (the demo) keeps no outbox: see mutations.py.
            session.info["local_only"] = self._local_only
            try:
                result = job(session)
                session.commit()
            except Exception:
                session.rollback()
                raise
            return result

    def close(self) -> None:
        """Finish the queued jobs, then release the file."""
        self._executor.shutdown(wait=True)
        self._engine.dispose()
