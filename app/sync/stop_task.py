"""Stopping a long-lived sync task without waiting on a wedged HTTP request."""

import asyncio


async def stop_task(task: "asyncio.Task[None]", grace: float = 2.0) -> None:
    """Cancel `task` and give it `grace` seconds to finish. An HTTP request cancelled midway
    may take its full timeout to close its connection (httpcore shields the close): shutdown
    and sign-out must not wait for that."""
    task.cancel()
    await asyncio.wait({task}, timeout=grace)
