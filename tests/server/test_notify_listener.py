"""The PostgreSQL listener stops cleanly even when a notification arrives as it stops."""

import asyncio

import pytest
from sqlalchemy import Engine

from server.realtime import notify
from server.realtime.delivery import Delivery, Item
from server.realtime.hub import Hub


class _StoppingHub(Hub):
    """Stops the listener from inside the delivery of the first notification it gets."""

    def __init__(self, stop: asyncio.Event) -> None:
        super().__init__()
        self.stop = stop
        self.items: list[Item] = []

    def dispatch(self, item: Item) -> None:
        self.items.append(item)
        self.stop.set()


def test_a_notification_at_shutdown_does_not_hang_the_listener(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")

    async def run() -> None:
        stop, ready = asyncio.Event(), asyncio.Event()
        hub = _StoppingHub(stop)
        task = asyncio.create_task(notify.listen(engine, hub, stop, ready))
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.to_thread(notify.send_now, engine, hub, Delivery('{"type": "x"}'))
        # Before the fix the listener left its connection while notifies() held its lock.
        await asyncio.wait_for(task, 10)
        assert len(hub.items) == 1

    asyncio.run(run())
