"""The one way long-running tasks pause: until stop, a wake-up, or a timeout, whichever first."""

from __future__ import annotations

import asyncio


async def wait_any(stop: asyncio.Event, wake: asyncio.Event | None, timeout_s: float) -> None:
    """Return when `stop` or `wake` is set, or after `timeout_s` seconds. Never raises on timeout."""
    events = [stop] if wake is None else [stop, wake]
    tasks = {asyncio.create_task(e.wait()) for e in events}
    try:
        await asyncio.wait(tasks, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        # Collected, so none is left with an unread outcome (an Event's wait never fails).
        await asyncio.gather(*tasks, return_exceptions=True)
