"""Bookkeeping shared by the simulators of token-guarded listing APIs.

`ListingIndex` keeps record ids in listing order (stamp, then id) as records are added or
changed, so a listing costs no date parsing; `SimTokens` holds the bearer tokens a
simulator issued; `stream_bytes` serves a body in chunks.
"""

from __future__ import annotations

import bisect
import datetime as dt
import secrets
import time
from collections.abc import Callable, Collection
from typing import Generic, TypeVar

from aiohttp import web

K = TypeVar("K", int, str)

STREAM_CHUNK_BYTES = 256 * 1024


class ListingIndex(Generic[K]):
    """Record ids sorted by (stamp, id), kept sorted as records come and change."""

    def __init__(self) -> None:
        self._order: list[tuple[dt.datetime, K]] = []  # listing order, kept sorted
        self._keys: dict[K, tuple[dt.datetime, K]] = {}  # record id → its key in _order

    def put(self, record_id: K, when: dt.datetime) -> None:
        """Put an added or changed record at its place in the listing order."""
        old = self._keys.pop(record_id, None)
        if old is not None:
            del self._order[bisect.bisect_left(self._order, old)]
        key = (when, record_id)
        bisect.insort(self._order, key)
        self._keys[record_id] = key

    def ids_since(
        self, since: dt.datetime, records: Collection[K], when: Callable[[K], dt.datetime]
    ) -> list[K]:
        """Ids stamped at or after `since`, in listing order.

        `records` are all ids the simulator holds; when a test set them directly (so the
        index does not know them all) every one is indexed again by `when`.
        """
        if len(self._keys) != len(records):
            self._order.clear()
            self._keys.clear()
            for record_id in records:
                self.put(record_id, when(record_id))
        start = bisect.bisect_left(self._order, since, key=lambda key: key[0])
        return [record_id for _, record_id in self._order[start:]]


class SimTokens:
    """The bearer tokens a simulator issued, each with its expiry."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}

    def issue(self, lifetime_s: float) -> str:
        token = secrets.token_urlsafe(24)
        self._expiry[token] = time.monotonic() + lifetime_s
        return token

    def clear(self) -> None:
        """Revoke every token."""
        self._expiry.clear()

    def authorized(self, request: web.Request) -> bool:
        """Whether `request` carries a live token."""
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expires_at = self._expiry.get(token)
        return expires_at is not None and time.monotonic() < expires_at


async def stream_bytes(
    request: web.Request, resp: web.StreamResponse, data: bytes
) -> web.StreamResponse:
    """Send `data` as the body of `resp` in chunks, as a server streaming a file would."""
    await resp.prepare(request)
    view = memoryview(data)
    for start in range(0, len(view), STREAM_CHUNK_BYTES):
        await resp.write(view[start : start + STREAM_CHUNK_BYTES])
    await resp.write_eof()
    return resp
