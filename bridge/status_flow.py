"""Business status back to senders (edXML status messages over the axis).

The processor owes 01 when a readable document arrives (02 when a secret one is kept aside);
the home system's status (polled, or pushed by webhook) is mirrored as 03-06 (02 on refusal);
a sender's take-back (13) is answered 15, or 16 when the document is already done. Messages owed
live in the store (`status_out`) and a relay per axis node sends them with retries.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from bridge.errors import AuthError, PermanentError, TransientError
from bridge.health import Health
from bridge.store import Store
from bridge.store.base import StatusReply
from bridge.waiting import wait_any
from schemas import Document, DocumentRef, Organ

log = structlog.get_logger(__name__)

STATUS_PROFILES = frozenset({"vxp"})  # profiles whose senders expect business status back
ARRIVED = ("01", "đã đến / arrived")
REFUSED_SECRET = (
    "02",
    "từ chối tiếp nhận: văn bản mật không nhận qua mạng / refused: secret document",
)
AGREE, REFUSE = "15", "16"


def reply(doc: Document, unit: str, code: str, description: str) -> StatusReply:
    """The status message owed to the issuer of `doc` by `unit`."""
    ref = {
        "issuer": doc.issuer.model_dump(mode="json"),
        "number": doc.number,
        "notation": doc.notation,
        "issued_on": doc.issued_on.isoformat() if doc.issued_on else None,
    }
    return StatusReply(code, description, unit, doc.issuer.model_dump(mode="json"), ref)


class StatusRelay:
    """Sends the status messages owed by one axis node, oldest first, with backoff."""

    def __init__(self, source: Any, store: Store, health: Health, max_attempts: int = 20) -> None:
        self.source = source
        self.store = store
        self.health = health
        self.max_attempts = max_attempts
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()
            due = await self.store.due_status(self.source.name)
            delay = 2.0
            for item in due:
                delay = await self._send(item)
                if delay > 0 or stop.is_set():
                    break
            await wait_any(stop, self.wake, delay if due else 2.0)

    async def _send(self, item: Any) -> float:
        ref = DocumentRef.model_validate(item.ref)
        try:
            sent_id = await self.source.send_status(
                from_organ=item.from_organ,
                to_document=ref,
                to_organ=Organ.model_validate(item.to_organ),
                code=item.code,
                description=item.description,
            )
        except (PermanentError, ValueError) as exc:
            await self.store.status_failed(item.id, str(exc), None)
            return 0.0
        except (TransientError, AuthError) as exc:
            wait_s = self.health.failed(exc)
            retry = time.time() + wait_s if item.attempts + 1 < self.max_attempts else None
            await self.store.status_failed(item.id, exc.reason, retry)
            log.warning(
                "status_send_failed", source=self.source.name, code=item.code, reason=exc.reason
            )
            return wait_s
        await self.store.status_sent(item.id, sent_id)
        log.info("status_sent", source=self.source.name, code=item.code, record=item.record_id)
        return 0.0


class StatusPoller:
    """Asks a home system, every `interval_s`, what became of documents not yet finished."""

    def __init__(self, sink: Any, store: Store, interval_s: float, per_poll: int = 50) -> None:
        self.sink = sink
        self.store = store
        self.interval_s = interval_s
        self.per_poll = per_poll
        self._after = 0  # place in the round: every unfinished document is asked about in turn

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except (TransientError, AuthError, PermanentError) as exc:
                log.warning("status_poll_failed", sink=self.sink.name, reason=exc.reason)
            await wait_any(stop, None, self.interval_s)

    async def poll_once(self) -> int:
        """Ask about the next `per_poll` unfinished documents; after the newest, start again
        from the oldest. Returns how many new statuses were stored."""
        batch = await self.store.status_pollable(self.sink.name, self._after, self.per_poll)
        events = []
        for _, remote_id in batch:
            event = await self.sink.status(remote_id)
            if event is not None:
                events.append(event)
        # Moved on only once the whole batch was asked: after a failure it is asked again.
        self._after = batch[-1][0] if len(batch) == self.per_poll else 0
        return await self.store.save_status_events(events) if events else 0
