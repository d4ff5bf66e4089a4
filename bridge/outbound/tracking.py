"""Tracking what became of each recipient, and telling the outbox: the receiving unit's home
status on the internal road, the status messages recipients send back over the axis, and the
dispatch reporter that sends every change of state to the outbox's dispatch log in order,
each under its stable Idempotency-Key, retrying transient failures without holding up the
other recipients."""

from __future__ import annotations

import asyncio
import time

import structlog

from bridge.domain.outbound import HOME_STATES, advances, is_code_known, state_of_code
from bridge.domain.outgoing import Move, OutReport
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.health import Health, backoff_s
from bridge.interfaces import DispatchReporter, IncomingStatus
from bridge.normalize.directory import normalize_code
from bridge.outbound.common import Hold, run_loop
from bridge.store import Store
from schemas.outgoing import DispatchState

log = structlog.get_logger(__name__)
REPORTS_IN_FLIGHT = 16
_TRACKED = ("arrived", "registered", "assigned", "processing", "sent")


class DispatchWorker:
    """Sends an outbox's owed dispatch reports (the oldest of each recipient, several
    recipients at once)."""

    def __init__(
        self,
        outbox: str,
        reporter: DispatchReporter,
        store: Store,
        health: Health,
        backoff_base_s: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.reporter = reporter
        self.store = store
        self.health = health
        self.backoff_base_s = backoff_base_s
        self.wake = asyncio.Event()
        self.hold: Hold | None = None  # the sending lease, when instances share the store

    async def run(self, stop: asyncio.Event) -> None:
        await run_loop(
            f"dispatch:{self.outbox}", self.send_due, stop, self.wake, idle_s=0.5, hold=self.hold
        )

    async def send_due(self) -> int:
        due = await self.store.due_reports(self.outbox, limit=REPORTS_IN_FLIGHT * 16)
        slots = asyncio.Semaphore(REPORTS_IN_FLIGHT)
        taken: list[int] = []

        async def one(report: OutReport) -> None:
            async with slots:
                if await self._send(report):
                    taken.append(report.id)

        try:
            await asyncio.gather(*(one(r) for r in due))
        finally:
            if taken:  # noted together: a crash before this sends them again, same key
                await self.store.report_sent(*taken)
        return len(due)

    async def _send(self, report: OutReport) -> bool:
        """True when the outbox took the report (201, or 200 for the same key again)."""
        try:
            await self.reporter.report(report.home_id, report.key, report.body)
        except (TransientError, AuthError) as exc:
            after = exc.retry_after_s if isinstance(exc, TransientError) else None
            wait = backoff_s(report.attempts + 1, self.backoff_base_s, 300.0, after)
            await self.store.report_failed(report.id, exc.reason, time.time() + wait)
            self.health.failed(exc)
            return False
        except PermanentError as exc:  # 404, 409, 422: never taken; kept aside, shown
            log.warning(
                "dispatch_report_refused", outbox=self.outbox, key=report.key, reason=exc.reason
            )
            await self.store.report_failed(report.id, exc.reason, None)
            return False
        self.health.succeeded()
        return True


class InternalTracker:
    """Follows internal recipients in their receiving unit: `arrived` once stored, then that
    unit's home status (received, assigned, processing, done; rejected is `refused`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.wake = asyncio.Event()
        self.hold: Hold | None = None  # the sending lease, when instances share the store

    async def run(self, stop: asyncio.Event) -> None:
        await run_loop("internal-tracker", self.track, stop, self.wake, idle_s=2.0, hold=self.hold)

    async def track(self) -> int:
        """Move the internal recipients whose receiving home system reported; how many moved."""
        moved = 0
        for r, statuses in await self.store.internal_progress(_TRACKED):
            state = DispatchState(r.state)
            moves = []
            for status in statuses:
                new = HOME_STATES.get(status)
                if new is not None and advances(state, new):
                    moves.append(Move(r.id, new, detail=f"hệ thống nhà: {status} / home status"))
                    state = new
            if moves:
                moved += sum(await self.store.move(*moves))
        return moved


async def axis_status(store: Store, unit: str, message: IncomingStatus) -> bool:
    """A status message a recipient sent back over the axis for one of our documents: its
    state moves (01 arrived … 06 done, 02 refused) or the code is relayed (15, 16). True when
    it named a recipient of ours."""
    if not is_code_known(message.code):
        return False
    docs = [d for d in await store.outgoing_docs_by_key(message.document_id) if d.unit == unit]
    sender = normalize_code(message.from_organ)
    for doc in docs:
        for r in await store.recipients_of(doc.id):
            if r.road != "axis" or sender not in (r.to, r.code, *r.listed):
                continue
            new = state_of_code(message.code) or DispatchState(r.state)
            await store.move(Move(r.id, new, status_code=message.code, detail=message.description))
            return True
    return False
