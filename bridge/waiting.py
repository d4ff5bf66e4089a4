"""The one way long-running tasks pause: until stop, a wake-up, or a timeout, whichever first;
slots that let the work of a pushed document pass the backlog's, and the one way calls to a
remote system are paced (`Pacer`)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
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


class Pacer:
    """At most `rate` calls a second, however they bunch: calls are spaced by 1/`rate`, and
    no more than `rate` (at least one) are let through within any `window_s` (a second and a
    margin, so that a call delayed on its way and the next one on time still arrive apart
    within the remote's own count of a second). Waiters go in turn."""

    def __init__(self, rate: float, margin_s: float = 0.1) -> None:
        self._window = 1.0 + margin_s
        self._sent: collections.deque[float] = collections.deque()
        self._turn = asyncio.Lock()
        self.rate = rate
        self._spacing = 1.0 / rate
        self._most = max(1, math.floor(rate))

    def at_most(self, rate: float) -> None:
        """Lower the rate (a higher one is ignored); the calls already let through still
        count against it."""
        if rate < self.rate:
            self.rate, self._spacing, self._most = rate, 1.0 / rate, max(1, math.floor(rate))

    async def acquire(self, amount: float = 1) -> None:
        """Wait for the turn of one call (`amount` is for a limiter's signature: one call)."""
        async with self._turn:
            while True:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self._window:
                    self._sent.popleft()
                wait = 0.0
                if self._sent:
                    wait = self._sent[-1] + self._spacing - now
                if len(self._sent) >= self._most:
                    wait = max(wait, self._sent[0] + self._window - now)
                if wait <= 0:
                    self._sent.append(now)
                    return
                await asyncio.sleep(wait)
