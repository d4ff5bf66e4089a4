"""Business status messages back to senders (edXML status messages over the axis).

The processor owes 01 when a readable document arrives (02 when a secret one is kept aside);
the home system's status (polled, or pushed by webhook) is mirrored as 03-06 (02 on refusal);
a sender's take-back (13) is answered 15, or 16 when the document is already done. Messages owed
live in the store (`status_out`) and a relay per axis node sends them with retries. Which
profiles speak status is their `Profile.status_messages`; relay and poller need only the
adapter's capability (`StatusSender`, `StatusPolling`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from bridge.domain.pacing import status_every_s
from bridge.errors import AuthError, BridgeError, PermanentError, TransientError
from bridge.health import Health, backoff_s, probe_wait_s
from bridge.interfaces import StatusPolling, StatusSender
from bridge.normalize.directory import Resolver
from bridge.store import StatusOut, StatusReply, Store
from bridge.waiting import Pacer, wait_any
from schemas import Document, DocumentRef, Organ, StatusEvent

log = structlog.get_logger(__name__)

ARRIVED = ("01", "đã đến / arrived")
REFUSED_SECRET = (
    "02",
    "từ chối tiếp nhận: văn bản mật không nhận qua mạng / refused: secret document",
)
TAKE_BACK = "13"  # a sender takes a document back; answered AGREE or REFUSE
AGREE, REFUSE = "15", "16"
IDLE_S = 2.0  # how often a relay with nothing due looks again
OUTAGE_STREAK = 3  # messages failing in a row that mean the node is down, not the messages
MESSAGE_BASE_S = 1.0  # a message's own backoff: 2 s, 4 s, 8 s ... after its 1st, 2nd, 3rd try
MESSAGE_MAX_S = 300.0


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
    """Sends the status messages owed by one axis node, oldest first.

    Each message keeps its own attempts and backoff (in the store): one that keeps failing is
    put off on its own clock and the messages behind it go on. Only `OUTAGE_STREAK` failures
    in a row, of different messages, mean the node itself is down: then the relay pauses for
    the node's backoff. A success resets that backoff, and after an outage every message
    put off meanwhile is due at once.
    """

    def __init__(
        self,
        source: StatusSender,
        store: Store,
        health: Health,
        max_attempts: int = 20,
        resolver: Resolver | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.health = health
        self.max_attempts = max_attempts
        self.resolver = resolver  # the organ directory: who answers for the sender today
        self.wake = asyncio.Event()

    def addressee(self, organ: Organ) -> Organ:
        """The organ a status message goes to: the document's sender as the directory knows
        it today (its successor once a merger took effect; its current code after a
        re-coding). The document's own reference keeps the code it was issued under."""
        if self.resolver is None or not organ.code:
            return organ
        found = self.resolver.resolve_at(organ.code)
        if not found.known or found.code is None or found.code == organ.code:
            return organ
        log.info("status_addressee_resolved", code=organ.code, to=found.code, why=found.reason)
        return Organ(code=found.code, name=found.name or organ.name)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()
            due = await self.store.due_status(self.source.name)
            pause_s = await self.send_due(due, stop) if due else IDLE_S
            await wait_any(stop, self.wake, pause_s)

    async def send_due(self, due: list[StatusOut], stop: asyncio.Event) -> float:
        """Send `due` in order; return how long to wait before looking again (0: at once)."""
        streak = 0
        for item in due:
            if stop.is_set():
                return 0.0
            error = await self._send(item)
            if isinstance(error, PermanentError):
                continue  # that message is given up; it says nothing about the node
            if error is None:
                streak = 0
                if self.health.succeeded():
                    released = await self.store.release_parked_status(self.source.name)
                    log.info("status_relay_recovered", source=self.source.name, released=released)
                continue
            streak += 1
            if isinstance(error, AuthError) or streak >= OUTAGE_STREAK:
                return probe_wait_s(self.health.failed(error), error)  # the node: pause
        return 0.0

    async def _send(self, item: StatusOut) -> BridgeError | None:
        """One attempt at one message, its outcome recorded. None when it was sent; the
        PermanentError when it was given up (refused, or unreadable in our own store); the
        TransientError or AuthError when it will be tried again."""
        try:
            sent_id = await self.source.send_status(
                from_organ=item.from_organ,
                to_document=DocumentRef.model_validate(item.ref),
                to_organ=self.addressee(Organ.model_validate(item.to_organ)),
                code=item.code,
                description=item.description,
            )
        except (PermanentError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            reason = exc.reason if isinstance(exc, PermanentError) else str(exc)[:500]
            await self.store.status_failed(item.id, reason, None)
            log.error("status_send_refused", source=self.source.name, code=item.code, reason=reason)
            return exc if isinstance(exc, PermanentError) else PermanentError(reason)
        except (TransientError, AuthError) as exc:
            attempts = item.attempts + 1
            retry_after = exc.retry_after_s if isinstance(exc, TransientError) else None
            wait_s = backoff_s(attempts, MESSAGE_BASE_S, MESSAGE_MAX_S, retry_after)
            retry = time.time() + wait_s if attempts < self.max_attempts else None
            await self.store.status_failed(item.id, exc.reason, retry)
            log.warning(
                "status_send_failed",
                source=self.source.name,
                code=item.code,
                reason=exc.reason,
                attempts=attempts,
                retry_in_s=round(wait_s, 1) if retry is not None else None,
            )
            return exc
        await self.store.status_sent(item.id, sent_id)
        log.debug("status_sent", source=self.source.name, code=item.code, record=item.record_id)
        return None


class StatusPoller:
    """Asks a home system what became of the documents it was given and has not finished.

    A document is asked about by its age (bridge.domain.pacing.status_every_s): every
    `interval_s` in its first hour, then ever more rarely; a finished one never. Each
    question first takes a token of `pacer`, which every poller of the same home system
    shares, so the system never hears more than its configured rate however many units
    deliver to it. At most `per_poll` questions per poll; a poll that had more due is
    followed by the next at once (the pacer is the bound), else by a pause of `interval_s`.
    """

    def __init__(
        self,
        sink: StatusPolling,
        store: Store,
        interval_s: float,
        per_poll: int = 50,
        *,
        pacer: Pacer | None = None,
        now: Callable[[], float] = time.time,
        per_scan: int = 500,
    ) -> None:
        self.sink = sink
        self.store = store
        self.interval_s = interval_s
        self.per_poll = per_poll
        self.pacer = pacer
        self.now = now
        self.per_scan = per_scan
        self.more = False  # the last poll stopped with questions still due
        self._after = 0  # place in the round: every unfinished document is looked at in turn
        self._asked: dict[int, float] = {}  # delivery -> when its status was last asked
        self._seen: set[int] = set()  # deliveries looked at in this round (to forget the rest)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except (TransientError, AuthError, PermanentError) as exc:
                self.more = False
                log.warning("status_poll_failed", sink=self.sink.name, reason=exc.reason)
            await wait_any(stop, None, 0.0 if self.more else self.interval_s)

    async def poll_once(self) -> int:
        """Ask about the documents whose time has come, from the poller's place in its round,
        at most `per_poll`; after the newest, start again from the oldest. Returns how many
        new statuses were stored."""
        now = self.now()
        events: list[StatusEvent] = []
        asked = 0
        self.more = False
        try:
            while not self.more:
                batch = await self.store.status_open(self.sink.name, self._after, self.per_scan)
                for delivery, remote_id, delivered_at in batch:
                    self._seen.add(delivery)
                    last = self._asked.get(delivery, delivered_at)
                    if now - last < status_every_s(now - delivered_at, self.interval_s):
                        self._after = delivery
                        continue
                    if asked == self.per_poll:
                        self.more = True
                        break
                    if self.pacer is not None:
                        await self.pacer.acquire()
                    event = await self.sink.status(remote_id)
                    self._asked[delivery] = now
                    self._after = delivery
                    asked += 1
                    if event is not None:
                        events.append(event)
                if not self.more and len(batch) < self.per_scan:
                    self._end_round()
                    break
        finally:
            # What was asked is stored even when a later question failed (it raises on).
            stored = await self.store.save_status_events(events) if events else 0
        return stored

    def _end_round(self) -> None:
        """Back to the oldest; forget deliveries no longer open (finished, or gone)."""
        self._after = 0
        self._asked = {d: t for d, t in self._asked.items() if d in self._seen}
        self._seen = set()
