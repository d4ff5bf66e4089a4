"""Draining the outbox: one worker per sink, retries with backoff, a breaker, dead letters.

A delivery's idempotency key is fixed when it is enqueued; its body (with uploaded file ids)
is stored before the first attempt, so every retry, including one after a crash, repeats the
same request and the sink never makes a second copy.

Two clocks: the sink's breaker (one outage counts once, however many deliveries were in
flight when it began) and each delivery's own backoff (its own attempts only). When the sink
answers again, every delivery it parked is due at once.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable

import structlog
from aiolimiter import AsyncLimiter

from bridge.errors import AuthError, PermanentError, TransientError
from bridge.health import OK, UNKNOWN, Health, backoff_s, probe_wait_s
from bridge.interfaces import Operation, Sink
from bridge.latency import DELIVERY_LATENCY
from bridge.logging import Tally
from bridge.store import Delivery, Store
from bridge.waiting import PrioritySlots, unless_stopped, wait_any

log = structlog.get_logger(__name__)


# Deliveries in hand per call slot: while some wait for the store (their body or their
# "delivered" made durable), others use the sink.
IN_HAND_PER_CALL = 2
DELIVERY_BASE_S = 1.0  # a delivery's own backoff: 2 s, 4 s, 8 s ... after its 1st, 2nd, 3rd try
DELIVERY_MAX_S = 300.0
# An idle worker sleeps until it is woken (work enqueued, a delivery finished, parked ones
# released, an operator's retry) or until the next retry the store holds is due; this is
# only the longest it sleeps without either (a claim of another instance lapsing, rows
# written by another instance of a cluster).
IDLE_FALLBACK_S = 30.0


class DeliveryWorker:
    """Delivers a sink's due outbox rows with at most `max_in_flight` calls to the sink at a
    time (uploads, sends). Twice as many deliveries are in hand: a delivery waiting for the
    store's commit holds no call slot, so the sink is kept busy while commits are made.

    The breaker opens on the first failure, synchronously, so deliveries in flight together
    that fail together are one failure of the sink. While it is open no call is made; once
    the sink's backoff has passed it is half-open: one probe (a delivery, or `check()` when
    nothing is due) goes through. Success closes it and makes every parked delivery due now.
    """

    def __init__(
        self,
        sink: Sink,
        store: Store,
        health: Health,
        *,
        max_in_flight: int = 4,
        max_attempts: int = 12,
        rate_limit: float | None = None,
        on_latency: Callable[[str, float], None] | None = None,
    ) -> None:
        self.sink = sink
        self._on_latency = on_latency or _observe_latency  # a delivery process reports it
        self.store = store
        self.health = health
        self.max_in_flight = max_in_flight
        self._calls = PrioritySlots(max_in_flight)  # calls to the sink at once
        self.max_attempts = max_attempts
        self.wake = asyncio.Event()
        self._open_until = 0.0  # wall-clock time the breaker stays open until
        self._opened_at = 0.0  # when it last opened: attempts started before it count no more
        self._crash: BaseException | None = None  # a delivery task that raised (a bug)
        self._keys: dict[int, tuple[int, str]] = {}  # in-flight delivery -> (document, unit)
        # Pushed documents (webhooks) go before the backlog: looked for first, started even
        # when every place in hand is taken, and first to the next free call slot.
        self._preferred: set[int] = set()  # documents to look for first
        self._urgent: set[int] = set()  # deliveries started from that lane
        # At most `rate_limit` calls a second to this sink (a leaky bucket, bursts of one second).
        self._limiter = AsyncLimiter(rate_limit, 1.0) if rate_limit else None
        self._tally = Tally(log, "deliveries_made", sink=sink.name)  # at info, many at a time

    async def run(self, stop: asyncio.Event) -> None:
        """Keep up to `max_in_flight` deliveries going; start the next as soon as one ends.

        Woken at once when the processor enqueues work for this sink, a delivery finishes,
        parked deliveries are released or an operator replays a dead letter; otherwise it
        sleeps until the next retry the store holds for this sink is due (at most
        IDLE_FALLBACK_S): an idle sink costs nothing however many there are. A delivery
        task that raised (a store error, a bug) is raised from here once the others in hand
        have finished, for the supervisor to log and restart.
        """
        in_flight: dict[int, asyncio.Task[None]] = {}
        self._crash = None  # a restart by the supervisor starts clean
        try:
            while not stop.is_set():
                self.wake.clear()
                if self._crash is not None:
                    raise self._crash
                now = time.time()
                if now < self._open_until:
                    await wait_any(stop, self.wake, self._open_until - now)
                    continue
                started = await self._start_due(in_flight, now)
                if not started and not in_flight and self._should_probe():
                    await unless_stopped(stop, self._probe())
                elif not started:
                    if not in_flight:
                        self._tally.flush()
                    await wait_any(stop, self.wake, await self._idle_s(now))
        finally:
            if in_flight:  # finish what is in hand; the daemon cancels us after its grace
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    def prefer(self, document_id: int) -> None:
        """A pushed document's deliveries were just enqueued: start them before the backlog."""
        self._preferred.add(document_id)
        self.wake.set()

    async def _idle_s(self, now: float) -> float:
        """How long to sleep with nothing startable: until the next retry is due."""
        if self.wake.is_set():
            return 0.0
        due = await self.store.next_due_at(self.sink.name, now)
        if due is None:
            return IDLE_FALLBACK_S
        return min(IDLE_FALLBACK_S, max(0.0, due - time.time()))

    def retry_now(self) -> None:
        """An operator's "retry now": the breaker's wait is over, the worker looks at once (the
        store has made the parked deliveries due)."""
        self._open_until = 0.0
        self.wake.set()

    @property
    def in_hand(self) -> int:
        """Deliveries started and not yet finished (some may be waiting for a call slot)."""
        return len(self._keys)

    def _capacity(self) -> int:
        """Deliveries in hand: one probe while the breaker is half-open (the sink failed and
        has not answered since)."""
        if self.health.state in (OK, UNKNOWN):
            return self.max_in_flight * IN_HAND_PER_CALL
        return 1

    def _should_probe(self) -> bool:
        """Nothing to deliver, and the sink's state not known good: ask it with `check()`, so
        the page tells the truth before the first document (and turns green when it is back)."""
        return self.health.state != OK and time.time() >= self._open_until

    async def _probe(self) -> None:
        started = time.time()
        try:
            async with self._calls.hold():
                await self.sink.check()
        except (TransientError, AuthError) as exc:
            wait_s = self._failed(exc, started)
            log.warning(
                "sink_check_failed",
                sink=self.sink.name,
                reason=exc.reason,
                retry_in_s=round(wait_s, 1),
            )
            return
        except PermanentError as exc:  # refused for good: nothing to learn until a delivery
            self._failed(TransientError(exc.reason), started)
            return
        await self._answered()

    async def _start_due(self, in_flight: dict[int, asyncio.Task[None]], now: float) -> int:
        started = await self._start_preferred(in_flight, now)
        room = self._capacity() - len(in_flight)
        if room <= 0:
            return started
        due = await self.store.due_deliveries(self.sink.name, room + len(in_flight), now)
        busy = self._busy(in_flight)
        for d in _one_per_document(due):
            if room == 0:
                break
            if d.id in in_flight or (d.document_id, d.unit) in busy:
                continue
            self._start(in_flight, d)
            room -= 1
            started += 1
        return started

    async def _start_preferred(self, in_flight: dict[int, asyncio.Task[None]], now: float) -> int:
        """The due deliveries of pushed documents, whatever the room left."""
        if not self._preferred:
            return 0
        documents, self._preferred = self._preferred, set()
        busy = self._busy(in_flight)
        started = 0
        for document_id in sorted(documents):
            due = await self.store.due_deliveries_of(self.sink.name, document_id, now)
            for d in _one_per_document(due):
                if d.id in in_flight or (d.document_id, d.unit) in busy:
                    continue
                self._urgent.add(d.id)
                self._start(in_flight, d)
                started += 1
        return started

    def _busy(self, in_flight: dict[int, asyncio.Task[None]]) -> set[tuple[int, str]]:
        return {(doc, unit) for doc, unit in (self._keys.get(i, (0, "")) for i in in_flight)}

    def _start(self, in_flight: dict[int, asyncio.Task[None]], d: Delivery) -> None:
        task = asyncio.create_task(self.deliver(d), name=f"deliver:{self.sink.name}:{d.id}")
        in_flight[d.id] = task
        self._keys[d.id] = (d.document_id, d.unit)
        task.add_done_callback(functools.partial(self._finished, in_flight, d.id))

    def _failed(self, exc: TransientError | AuthError, started: float) -> float:
        """Count one sink failure per outage round and open the breaker, synchronously (no
        await in between): an attempt that started before the breaker last opened was in flight
        when the outage was already counted, so its failure is not counted again (else the
        backoff multiplies). Returns how long the breaker stays open from now."""
        now = time.time()
        if started < self._opened_at:
            return max(0.0, self._open_until - now)
        wait_s = probe_wait_s(self.health.failed(exc), exc)
        self._opened_at = now
        self._open_until = max(self._open_until, now + wait_s)
        return self._open_until - now

    async def _answered(self) -> None:
        """The sink answered: close the breaker; if it was not known good, every delivery it
        parked is due now and the worker looks at once."""
        self._open_until = 0.0
        if self.health.succeeded():
            released = await self.store.release_parked_deliveries(self.sink.name)
            if released:
                log.info("sink_recovered", sink=self.sink.name, released=released)
            self.wake.set()

    def _finished(
        self, in_flight: dict[int, asyncio.Task[None]], delivery_id: int, task: asyncio.Task[None]
    ) -> None:
        in_flight.pop(delivery_id, None)
        self._keys.pop(delivery_id, None)
        self._urgent.discard(delivery_id)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Its outcome was not recorded: the row is still pending and is tried again.
            log.error(
                "delivery_task_failed", sink=self.sink.name, delivery=delivery_id, error=repr(exc)
            )
            self._crash = self._crash or exc
            self.wake.set()
            return
        # Refill in steps: a busy worker looks for due work once a quarter of its slots are
        # free, not after every delivery (each look reads the head of the outbox again).
        capacity = self._capacity()
        if capacity - len(in_flight) >= _refill_at(capacity):
            self.wake.set()

    async def deliver(self, delivery: Delivery) -> None:
        """One attempt at one delivery; its result is recorded before returning."""
        started = time.time()
        try:
            try:
                remote_id = await self._attempt(delivery)
            except (PermanentError, TransientError, AuthError):
                raise
            except Exception as exc:  # a bug in a sink adapter: retried later, never lost
                log.exception("delivery_crashed", sink=self.sink.name, delivery=delivery.id)
                raise TransientError(
                    f"lỗi nội bộ / internal error: {type(exc).__name__}: {exc}"
                ) from exc
        except PermanentError as exc:
            await self.store.mark_dead(delivery.id, exc.reason)
            log.error("delivery_dead", sink=self.sink.name, delivery=delivery.id, reason=exc.reason)
            return
        except (TransientError, AuthError) as exc:
            self._failed(exc, started)  # before any await: the breaker opens at once
            retry_after = exc.retry_after_s if isinstance(exc, TransientError) else None
            wait_s = backoff_s(delivery.attempts + 1, DELIVERY_BASE_S, DELIVERY_MAX_S, retry_after)
            if delivery.attempts + 1 >= self.max_attempts:
                reason = f"hết số lần thử ({self.max_attempts}) / retries exhausted: {exc.reason}"
                await self.store.mark_dead(delivery.id, reason)
                log.error("delivery_dead", sink=self.sink.name, delivery=delivery.id, reason=reason)
            else:
                await self.store.schedule_retry(delivery.id, time.time() + wait_s, exc.reason)
            log.warning(
                "delivery_retry",
                sink=self.sink.name,
                delivery=delivery.id,
                reason=exc.reason,
                retry_in_s=round(wait_s, 1),
            )
            return
        if remote_id is None:
            log.info("delivery_cancelled", sink=self.sink.name, delivery=delivery.id)
            return
        await self.store.mark_delivered(delivery.id, remote_id)
        self._on_latency(self.sink.name, max(0.0, time.time() - delivery.created_ts))
        self.health.count += 1
        await self._answered()
        log.debug(
            "delivered",
            sink=self.sink.name,
            delivery=delivery.id,
            op=delivery.op,
            document=delivery.document_id,
        )
        self._tally.add(str(delivery.op))

    async def _attempt(self, delivery: Delivery) -> str | None:
        if self._limiter is not None:
            await self._limiter.acquire()
        op = Operation(delivery.op)
        first = delivery.id in self._urgent  # a pushed document's: first to a free call slot
        remote_id = None
        if op is not Operation.CREATE:
            remote_id = await self.store.remote_id(
                delivery.document_id, delivery.unit, delivery.sink
            )
            if remote_id is None:
                raise PermanentError(
                    "không tìm thấy bản đã gửi để cập nhật / nothing delivered to update"
                )
        body = delivery.body
        if body is None:
            row = await self.store.document(delivery.document_id)
            if row is None:
                raise PermanentError(f"văn bản {delivery.document_id} không còn / document gone")
            async with self._calls.hold(first=first):
                body = await self.sink.prepare(
                    op,
                    row.document,
                    document_id=str(delivery.document_id),
                    remote_id=remote_id,
                    note=delivery.note,
                )
            if not await self.store.store_body(delivery.id, body):
                return None  # cancelled while it was being prepared (a revocation, a merge)
        async with self._calls.hold(first=first):
            return await self.sink.send(op, body, delivery.key, remote_id)


def _observe_latency(sink: str, seconds: float) -> None:
    DELIVERY_LATENCY.labels(sink).observe(seconds)


def _refill_at(capacity: int) -> int:
    """Free slots that make a busy worker look for due work again."""
    return max(1, capacity // 4)


def _one_per_document(due: list[Delivery]) -> list[Delivery]:
    """Keep one delivery per (document, unit): its later operations must wait their turn."""
    seen: set[tuple[int, str]] = set()
    out = []
    for d in due:
        if (d.document_id, d.unit) not in seen:
            seen.add((d.document_id, d.unit))
            out.append(d)
    return out
