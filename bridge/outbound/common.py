"""What every part of sending shares: the outbox a road works for (its routing, its unit's
current code), the move to the next road after one failed for good, per-recipient backoff,
and the loop every worker runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from bridge.blobs import Blobs
from bridge.domain.outbound import PAPER_TASK, message_kind
from bridge.domain.outbound_plan import Routing
from bridge.domain.outgoing import Move, OutDoc, OutRecipient
from bridge.errors import BridgeError
from bridge.health import Health, backoff_s
from bridge.interfaces import OutgoingMessage
from bridge.store import Store
from bridge.waiting import wait_any
from schemas import DocumentRef
from schemas.outgoing import OutgoingItem, Road

log = structlog.get_logger(__name__)


@dataclass
class OutboxContext:
    """One outbox as its road workers see it."""

    name: str
    unit: str
    store: Store
    routing: Routing
    health: Health
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    blobs: Blobs | None = None  # where the attachments' bytes are, for composing

    async def loaded(self, message: OutgoingMessage) -> OutgoingMessage:
        """The message with its attachments' bytes (compose is pure and reads them there)."""
        return message if self.blobs is None else await message.with_files(self.blobs)

    def retry_at(self, attempts: int, exc: BaseException | None = None) -> float:
        after = getattr(exc, "retry_after_s", None)
        return time.time() + backoff_s(attempts + 1, self.backoff_base_s, self.backoff_max_s, after)

    async def fail_over(
        self, doc: OutDoc, r: OutRecipient, reason: str, code: str | None = None
    ) -> None:
        """The current road failed for good: report `failed` with the reason, then take the
        next road that reaches the recipient (paper, an operator task, when none does)."""
        item = OutgoingItem.model_validate(doc.data)
        target = self.routing.target_of(r, item.document.issued_on)
        skip = {Road(x) for x in (*r.failed_roads, r.road) if x}
        route = self.routing.route(target, skip)
        failed = Move(
            r.id, "failed", detail=reason, failed_road=r.road, error=reason, status_code=code
        )
        if route.road is Road.PAPER:
            nxt = Move(
                r.id, "undeliverable", road="paper", to=None, why=route.why, detail=PAPER_TASK
            )
            await self.store.move(failed, nxt, paper=[(r.id, r.version, "new")])
        else:
            nxt = Move(
                r.id,
                "queued",
                road=route.road.value,
                to=route.to,
                why=route.why,
                next_at=time.time(),
            )
            await self.store.move(failed, nxt)
        log.info(
            "outgoing_failed_over",
            outbox=self.name,
            recipient=r.code,
            road=r.road,
            next=route.road.value,
            reason=reason,
        )


def item_of(doc: OutDoc) -> OutgoingItem:
    return OutgoingItem.model_validate(doc.data)


def kind_for(doc: OutDoc, r: OutRecipient, had_it: bool) -> str:
    """What the version a recipient is owed says to it: the whole document when it never had
    it on this road, else the version's update, revocation or take-back."""
    return message_kind(item_of(doc), not had_it)


Hold = Callable[[], Awaitable[bool]]  # whether this instance does the sending now (its lease)


async def run_loop(
    name: str,
    once: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    wake: asyncio.Event,
    health: Health | None = None,
    idle_s: float = 1.0,
    hold: Hold | None = None,
) -> None:
    """Call `once` until stopped: again at once while it found work, else after `idle_s` or
    when woken. A failure of one pass is logged and shown, never ends the loop. With `hold`,
    only while it says this instance holds the sending (another instance sends meanwhile)."""
    while not stop.is_set():
        wake.clear()
        try:
            done = await once() if hold is None or await hold() else 0
        except BridgeError as exc:
            log.warning("outgoing_pass_failed", worker=name, reason=exc.reason)
            if health is not None:
                health.failed(exc)
            done = 0
        if done:
            await asyncio.sleep(0)
            continue
        await wait_any(stop, wake, idle_s)


def document_ref(doc: OutDoc) -> DocumentRef:
    """The reference of an outgoing document as its receivers name it."""
    d = item_of(doc).document
    return DocumentRef(issuer=d.issuer, number=d.number, notation=d.notation, issued_on=d.issued_on)
