"""The one way long-running tasks pause: until stop, a wake-up, or a timeout, whichever first;
and slots that let the work of a pushed document pass the backlog's."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Coroutine
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


class PrioritySlots:
    """At most `n` holders at once, like a semaphore; a waiting holder marked `first` (a
    pushed document's delivery) gets the next free slot before any other waiting one."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._first: collections.deque[asyncio.Future[None]] = collections.deque()
        self._rest: collections.deque[asyncio.Future[None]] = collections.deque()

    @contextlib.asynccontextmanager
    async def hold(self, *, first: bool = False) -> AsyncIterator[None]:
        await self._acquire(first)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, first: bool) -> None:
        if self._free > 0:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._first if first else self._rest).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot at the moment it was cancelled: pass it on
            raise

    def _release(self) -> None:
        for queue in (self._first, self._rest):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the slot goes straight to the waiter
                    return
        self._free += 1
