"""Ingest: take a page from a source, store it durably, acknowledge each record, repeat.

Sources never wait on sinks or on matching: ingest only writes records (and tells the
processor, `bridge.pipeline`, they are there); delivery workers drain the outbox on their own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from bridge.domain.pacing import first_poll_delay, next_poll_delay
from bridge.errors import AuthError, PermanentError, StaleLeaseError, TransientError
from bridge.health import Health, probe_wait_s
from bridge.interfaces import Source
from bridge.leases import Lease
from bridge.store import StoredRecord
from bridge.store.api import Fence
from bridge.waiting import wait_any
from schemas import Page, RawRecord

log = structlog.get_logger(__name__)
ACK_CONCURRENCY = 8  # acknowledgements under way at once, per source
SUMMARY_EVERY_S = 60.0  # polls are summed up in one info line this often


@dataclass
class PollTally:
    """Polls of every source of a daemon, summed up in one `polls_summary` line at info every
    `every_s` (a poll that brings nothing is not worth a line of its own: at hundreds of
    sources that was most of the log)."""

    every_s: float = SUMMARY_EVERY_S
    polls: int = 0
    idle: int = 0
    failed: int = 0
    new_records: int = 0
    sources: set[str] = field(default_factory=set)
    since: float = field(default_factory=time.monotonic)

    def note(self, source: str, new_records: int | None) -> None:
        """One poll of `source`: the records it stored, None when it failed."""
        self.polls += 1
        self.sources.add(source)
        if new_records is None:
            self.failed += 1
        elif new_records == 0:
            self.idle += 1
        self.new_records += new_records or 0
        now = time.monotonic()
        if now - self.since >= self.every_s:
            log.info(
                "polls_summary",
                seconds=round(now - self.since),
                sources=len(self.sources),
                polls=self.polls,
                idle=self.idle,
                failed=self.failed,
                new_records=self.new_records,
            )
            self.polls = self.idle = self.failed = self.new_records = 0
            self.sources.clear()
            self.since = now


class IntakeStore(Protocol):
    """What a source runner asks of the store (the whole store, or an outbox's items)."""

    async def is_paused(self, name: str) -> bool: ...
    async def get_cursor(self, source: str) -> str | None: ...
    async def save_page(self, source: str, page: Page, *, fence: Fence = None) -> list[int]: ...
    async def mark_acked_many(
        self, keys: Sequence[tuple[str, str, str, str]], *, fence: Fence = None
    ) -> None: ...
    async def unacked(self, source: str, limit: int = 500) -> list[StoredRecord]: ...


class Notified(Protocol):
    """What ingest tells once new records are stored (the processor)."""

    def notify(self) -> None: ...


class SourceRunner:
    """Drives one source: pull, store, acknowledge, repeat every `poll_interval` seconds."""

    def __init__(
        self,
        source: Source,
        store: IntakeStore,
        processor: Notified,
        health: Health,
        poll_interval_s: float,
        lease: Lease | None = None,
        share: Callable[[str], bool] = lambda name: True,
        *,
        jitter: float = 0.0,
        start_spread_s: float = 0.0,
        tally: PollTally | None = None,
    ) -> None:
        self.source = source
        self.share = share  # whether this instance may hold this source now (its fair share)
        self.store = store
        self.processor = processor
        self.health = health
        self.poll_interval_s = poll_interval_s
        self.lease = lease
        self.poke = asyncio.Event()  # poll now, or paused/resumed: look again at once
        self.jitter = jitter  # share of the interval each poll may move later (domain.pacing)
        self.start_spread_s = start_spread_s  # first polls of all sources spread over this
        self.tally = tally or PollTally()
        self._new_records = 0  # stored by the poll under way

    async def run(self, stop: asyncio.Event) -> None:
        """Poll at the source's own place in its interval (bridge.domain.pacing), the first
        poll after a start at its place in the start spread; a poke polls at once."""
        name = self.source.name
        first = first_poll_delay(name, self.start_spread_s)
        if first > 0:
            await wait_any(stop, self.poke, first)
            self.poke.clear()
        while not stop.is_set():
            delay = next_poll_delay(name, self.poll_interval_s, time.time(), self.jitter)
            try:
                self.health.paused = await self.store.is_paused(name)
                if self.health.paused:
                    pass  # an operator paused it: nothing pulled until resumed (poke wakes us)
                elif self.lease is not None and not self.share(self.source.name):
                    await self.lease.release()  # more than our share: let another instance pull it
                    self.health.standby = True
                elif self.lease is not None and not await self.lease.hold():
                    self.health.standby = True  # another instance pulls this source now
                else:
                    self.health.standby = False
                    self._new_records = 0
                    await self.ack_pending()
                    await self.pull_once(stop)
                    self.health.succeeded()
                    self.tally.note(name, self._new_records)
            except (TransientError, AuthError, PermanentError) as exc:
                self.tally.note(name, None)
                # Each call was already retried under its own budget; between polls a source that
                # is down is asked again every few seconds (or after its Retry-After), not after
                # a backoff grown to minutes, so its backlog flows within seconds of its return.
                delay = max(self.poll_interval_s, probe_wait_s(self.health.failed(exc), exc))
                log.warning(
                    "source_failed",
                    source=name,
                    state=self.health.state,
                    reason=exc.reason,
                    retry_in_s=round(delay, 1),
                )
            except Exception as exc:  # a bug in an adapter: keep the source alive, retry later
                log.exception("source_crashed", source=name)
                delay = self.health.failed(
                    TransientError(f"lỗi nội bộ / internal error: {type(exc).__name__}: {exc}")
                )
            await wait_any(stop, self.poke, delay)
            self.poke.clear()

    async def pull_once(self, stop: asyncio.Event) -> None:
        """Pull from the stored cursor, storing each page durably before its receipts go out.
        A page with no records that leaves the cursor where it was is not stored.

        The receipts of one page are sent while the next page is fetched and stored (at most
        one page's receipts under way), so a receipt that waits out a Retry-After does not
        hold the pull. A receipt that failed raises at the next page or at the end; the
        records it concerns stay unacknowledged and `ack_pending` sends them again.
        """
        cursor = await self.store.get_cursor(self.source.name)
        receipts: asyncio.Task[None] | None = None
        try:
            async for page in self.source.pull(cursor):
                if not page.records and page.cursor in (None, cursor):
                    continue  # nothing new and the place unchanged: no write (an idle poll)
                await self.store_page(page)
                cursor = page.cursor if page.cursor is not None else cursor
                self.health.succeeded()  # a long first pull is not "unknown" while it stores
                if receipts is not None:
                    sending, receipts = receipts, None
                    await sending  # a failed receipt raises here (ack_pending sends it again)
                receipts = asyncio.create_task(
                    self.acknowledge(page.records), name=f"receipts:{self.source.name}"
                )
                if stop.is_set() or self.health.paused:
                    break
            if receipts is not None:
                sending, receipts = receipts, None
                await sending
        finally:
            if receipts is not None:  # the pull failed or was cut short meanwhile: that error
                await self._settle(receipts)  # is raised; this one's outcome is logged

    async def _settle(self, receipts: asyncio.Task[None]) -> None:
        """Wait for a page's receipts the pull no longer waits for, and log their failure (the
        records are stored; ack_pending sends their receipts again)."""
        (outcome,) = await asyncio.gather(receipts, return_exceptions=True)
        if isinstance(outcome, Exception):
            log.warning(
                "receipts_not_sent",
                source=self.source.name,
                error=f"{type(outcome).__name__}: {outcome}",
                reason="chưa báo đã nhận, sẽ gửi lại / receipts not sent, sent again later",
            )

    async def ingest(self, page: Page) -> None:
        """Store a page (records and cursor) durably, then acknowledge each record."""
        await self.store_page(page)
        await self.acknowledge(page.records)

    async def store_page(self, page: Page) -> None:
        """Store a page (records and cursor) durably; its receipts are the caller's."""
        if self.lease is not None and not await self.lease.hold():
            raise StaleLeaseError(f"mất quyền đọc nguồn / lease lost: {self.lease.resource}")
        new_ids = await self.store.save_page(self.source.name, page, fence=self._fence)
        if new_ids:
            self._new_records += len(new_ids)
            self.processor.notify()
            log.info(
                "records_stored", source=self.source.name, new=len(new_ids), seen=len(page.records)
            )

    async def acknowledge(self, records: Sequence[RawRecord]) -> None:
        """Acknowledge each record at its source, then note them all in one transaction.

        Up to ACK_CONCURRENCY acknowledgements are under way at once (a receipt is one HTTP
        call each on most systems). After a failure no new one starts; those under way finish,
        what got through is noted, then the failure is raised. A record acknowledged at the
        source but not yet noted is acknowledged again after a crash; acknowledgements are
        idempotent, so that is harmless.
        """
        done: list[tuple[str, str, str, str]] = []
        failures: list[Exception] = []
        slots = asyncio.Semaphore(ACK_CONCURRENCY)

        async def one(record: RawRecord) -> None:
            async with slots:
                if failures:
                    return
                try:
                    await self.source.acknowledge(record)
                except Exception as exc:  # raised below, once the others under way finish
                    failures.append(exc)
                    return
                done.append((record.source, record.unit, record.external_id, record.version))

        try:
            await asyncio.gather(*(one(record) for record in records))
        finally:
            if done:
                await self.store.mark_acked_many(done, fence=self._fence)
        if failures:
            raise failures[0]

    @property
    def _fence(self) -> tuple[str, int] | None:
        return self.lease.fence if self.lease is not None else None

    async def ack_pending(self) -> None:
        """Acknowledge records stored earlier whose acknowledgement did not get through."""
        pending = await self.store.unacked(self.source.name)
        await self.acknowledge([r.raw for r in pending])
