"""Reading a source's next page while the pipeline stores and acknowledges the one before.

A pull is a chain of pages, each waiting on its slowest call: with retries in place, one file
throttled for a second holds its page a second, and the page's receipts can hold it again.
`read_ahead` lets the source's own generator run one page ahead of the pipeline, so those
waits overlap with the pipeline's work on the page before instead of adding up.

Nothing changes in what a page means: pages still reach the pipeline one by one, in order,
each with the cursor that covers exactly what came before it; a page read ahead is only
files in the blob store and records in memory until the pipeline stores it. When the
consumer stops early (or is cancelled) the page being read ahead is cancelled with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar, cast

T = TypeVar("T")

_DONE = object()


async def read_ahead(pages: AsyncGenerator[T, None], depth: int = 1) -> AsyncIterator[T]:
    """`pages` in order, the generator running up to `depth` pages ahead of the consumer.

    An error of `pages` is raised to the consumer after every page yielded before it.
    """
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=depth)

    async def produce() -> None:
        try:
            async for page in pages:
                await queue.put(page)
        except Exception as exc:  # handed to the consumer, in its place in the order
            await queue.put(exc)
            return
        await queue.put(_DONE)

    producer = asyncio.create_task(produce(), name="read-ahead")
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            yield cast(T, item)
    finally:
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)  # its outcome read, never lost
        await pages.aclose()
