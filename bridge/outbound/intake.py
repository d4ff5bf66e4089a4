"""Intake of an outbox: its items are pulled (and pushed) like any source's records, stored
before the outbox is acknowledged or its cursor moves (the source runner of `bridge.ingest`
over the store's outbox items), then taken one by one: mapped by the profile's `to_outgoing`,
routed or refused (`bridge.domain.outbound_plan`), and applied in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

import structlog

from bridge.domain.entities import StoredRecord
from bridge.domain.outbound_plan import Routing, plan
from bridge.errors import PermanentError
from bridge.outbound.common import Hold, run_loop
from bridge.store import Store
from bridge.store.api import Fence
from schemas import Document, Page, RawRecord
from schemas.outgoing import OutgoingItem

log = structlog.get_logger(__name__)
TAKEN_TOGETHER = 16  # items taken in one transaction (a short one: other writers wait)
Verify = Callable[[Document, RawRecord], Awaitable[Document]]


class OutboxRecords:
    """The store as a source runner sees it, for one outbox: its items instead of records (an
    outgoing document is never read as an incoming one), the same cursors and pause."""

    def __init__(self, store: Store, on_stored: Callable[[], None]) -> None:
        self.store = store
        self.on_stored = on_stored

    async def is_paused(self, name: str) -> bool:
        return await self.store.is_paused(name)

    async def get_cursor(self, source: str) -> str | None:
        return await self.store.get_cursor(source)

    async def save_page(self, source: str, page: Page, *, fence: Fence = None) -> list[int]:
        new = await self.store.save_outbox_page(source, page, fence=fence)
        if new:
            self.on_stored()
        return new

    async def save_records(self, source: str, records: Sequence[RawRecord]) -> list[int]:
        new = await self.store.save_outbox_items(source, records)
        if new:
            self.on_stored()
        return new

    async def mark_acked_many(
        self, keys: Sequence[tuple[str, str, str, str]], *, fence: Fence = None
    ) -> None:
        by_outbox: dict[str, list[tuple[str, str, str]]] = {}
        for source, unit, external_id, version in keys:
            by_outbox.setdefault(source, []).append((unit, external_id, version))
        for outbox, rows in by_outbox.items():
            await self.store.mark_outbox_acked(outbox, rows, fence=fence)

    async def unacked(self, source: str, limit: int = 500) -> list[StoredRecord]:
        found = await self.store.outbox_unacked(source, limit)
        return [StoredRecord(0, raw, False, None, None, None) for raw in found]


class Taker:
    """Takes the stored outbox items in arrival order (one task for every outbox)."""

    def __init__(
        self,
        store: Store,
        to_outgoing: Callable[[str], Callable[[RawRecord], OutgoingItem] | None],
        routing: Callable[[str], Routing | None],
        unit_of: Mapping[str, str] | Callable[[str], str | None],
        on_taken: Callable[[], None],
        verify: Verify | None = None,
    ) -> None:
        self.store = store
        self.to_outgoing = to_outgoing
        self.routing = routing
        self.unit_of = unit_of if callable(unit_of) else unit_of.get
        self.on_taken = on_taken
        self.verify = verify
        self.wake = asyncio.Event()
        self.hold: Hold | None = None  # the sending lease, when instances share the store

    async def run(self, stop: asyncio.Event) -> None:
        await run_loop("outbox-intake", self.take_pending, stop, self.wake, hold=self.hold)

    async def take_pending(self, batch: int = 100) -> int:
        items = await self.store.untaken_items(batch)
        for start in range(0, len(items), TAKEN_TOGETHER):
            async with self.store.batch():  # one commit for several items
                for item_id, outbox, raw in items[start : start + TAKEN_TOGETHER]:
                    await self._take(item_id, outbox, raw)
        if items:
            self.on_taken()
        return len(items)

    async def _take(self, item_id: int, outbox: str, raw: RawRecord) -> None:
        mapper, routing, unit = self.to_outgoing(outbox), self.routing(outbox), self.unit_of(outbox)
        if mapper is None or routing is None or unit is None:
            return  # an outbox no longer configured: left until it is again
        try:
            if raw.error:
                raise PermanentError(raw.error)
            item = mapper(raw)
            if routing.require_signature and self.verify is not None:
                item = item.model_copy(update={"document": await self.verify(item.document, raw)})
        except PermanentError as exc:
            log.warning(
                "outgoing_unreadable", outbox=outbox, item=raw.external_id, reason=exc.reason
            )
            await self.store.skip_item(item_id, exc.reason)
            return
        existing = await self.store.outgoing_doc(outbox, item.document_id)
        recipients = await self.store.recipients_of(existing.id) if existing else []
        intake = plan(item_id, outbox, unit, item, existing, recipients, routing)
        await self.store.take_item(intake)
        log.info(
            "outgoing_taken",
            outbox=outbox,
            document=item.document_id,
            version=item.version,
            refused=intake.refused,
            skipped=intake.skip,
        )
