"""Fetching the files of one page concurrently, bounded, never abandoning work midway.

A source stores every file a page names before it yields the page. `fetch_all` runs those
fetches together, at most as many at once as the source's semaphore allows (one semaphore
per source, shared by all its pages, so a page of 100 records with 3 files each opens a
handful of connections, not 300).

A fetch that fails with PermanentError settles only its own record: that record's fetches
not yet started are skipped and the caller makes it an error record. Any other failure
(TransientError, AuthError, a bug) stops every fetch not yet started; those already running
finish, then the failure is raised and nothing outlives the call. A caller that passes
`done` learns which records had every fetch finished before the failure, so it can hand
those over (a prefix of its page) rather than fetch them all again on the next try. A sibling's failure never cancels a fetch midway (that would leave half-written blobs
and temporary files to chance); cancelling the caller still cancels everything.

A fetch holds its slot while it downloads, not while its files are flushed to disk: the
flushes (see `bridge.blobs.deferred_flush`) are awaited after the slot is given back, and
`fetch_all` returns only once all of them succeeded, so a page is never stored before its files
are durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from adapters._http import holding
from bridge.blobs import deferred_flush
from bridge.errors import PermanentError

T = TypeVar("T")


@dataclass(frozen=True)
class Fetch(Generic[T]):
    """One file to fetch: the position of its record in the page, and the work itself."""

    record: int
    run: Callable[[], Awaitable[T]]


async def fetch_all(
    fetches: Sequence[Fetch[T]],
    slots: asyncio.Semaphore,
    *,
    done: dict[int, list[T] | PermanentError] | None = None,
) -> dict[int, list[T] | PermanentError]:
    """Each record's results in fetch order, or the PermanentError that settled it.

    A record with no fetches has no entry. Raises the first other failure, once every
    fetch already started has finished; before that, `done` (when given) receives the
    results of each record whose fetches all finished (or that was settled).
    """
    settled: dict[int, PermanentError] = {}
    stopped: list[Exception] = []

    async def one(fetch: Fetch[T]) -> tuple[T] | None:
        result: tuple[T] | None = None
        async with slots:
            if stopped or fetch.record in settled:
                return None
            with deferred_flush() as flushes:
                try:
                    with holding(slots):  # given back while a retry waits
                        result = (await fetch.run(),)
                except PermanentError as exc:
                    settled.setdefault(fetch.record, exc)
                except Exception as exc:  # raised below, after the running fetches finish
                    stopped.append(exc)
        # The slot is free for the next download while this one's files are flushed; the
        # page is stored only once every flush has succeeded.
        for flushed in flushes:
            try:
                await flushed
            except Exception as exc:
                stopped.append(exc)
                return None
        return result

    results = await asyncio.gather(*(one(fetch) for fetch in fetches))
    out: dict[int, list[T] | PermanentError] = dict(settled)
    missing: set[int] = set()
    for fetch, result in zip(fetches, results, strict=True):
        if fetch.record in settled:
            continue
        if result is None:
            missing.add(fetch.record)
            continue
        fetched = out.setdefault(fetch.record, [])
        assert isinstance(fetched, list)
        fetched.append(result[0])
    if stopped:
        if done is not None:
            done.update((r, v) for r, v in out.items() if r not in missing)
        raise stopped[0]
    return out


def finished_prefix(
    fetches: Sequence[Fetch[T]], done: dict[int, list[T] | PermanentError], count: int
) -> int:
    """How many of records 0..count-1, from the first, have nothing left to fetch.

    A record without fetches counts as finished; `done` is what `fetch_all` filled in.
    """
    pending = {fetch.record for fetch in fetches if fetch.record not in done}
    return next((position for position in range(count) if position in pending), count)
