"""The one way long-running tasks pause: until stop, a wake-up, or a timeout, whichever first."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


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


async def unless_stopped(stop: asyncio.Event, work: Coroutine[Any, Any, None]) -> None:
    """Run `work`, cancelled if `stop` is set first (a probe of a system that does not answer
    must not hold up a shutdown). Its exception, if any, is raised here."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
        await asyncio.wait({task, stopped})  # both settle; outcomes are read below
    if not task.cancelled():
        task.result()
