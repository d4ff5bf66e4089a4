"""Sending as the daemon runs it: for each unit's outbox its intake (a source runner over the
outbox's items, and its push intake), a worker per road it may use, and its dispatch reporter;
one taker and one internal tracker for all. Every task is supervised."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import structlog

from bridge.blobs import Blobs
from bridge.config import Config, UnitConfig
from bridge.domain.outbound import ALL_ROADS, TAKE_BACK_CODE
from bridge.domain.outbound_plan import Routing
from bridge.domain.outgoing import OutDoc, OutRecipient
from bridge.endpoints import limits_of
from bridge.health import Health
from bridge.ingest import SourceRunner
from bridge.interfaces import (
    AdapterContext,
    DispatchReporter,
    IncomingStatus,
    Profiles,
    PushReceiver,
    StatusSender,
)
from bridge.leases import Lease
from bridge.normalize.directory import Resolver
from bridge.outbound.axis import AxisRoad
from bridge.outbound.common import OutboxContext, document_ref
from bridge.outbound.intake import OutboxRecords, Taker, Verify
from bridge.outbound.roads import InternalRoad, MailRoad
from bridge.outbound.tracking import DispatchWorker, InternalTracker, axis_status
from bridge.services import PushIntake
from bridge.settings import SourceSettings
from bridge.store import Store
from bridge.supervisor import Supervisor
from bridge.tls import ssl_context
from schemas import Organ
from schemas.outgoing import Road

log = structlog.get_logger(__name__)


@dataclass
class RunningOutbox:
    settings: SourceSettings
    unit: str
    adapter: Any
    health: Health
    ctx: OutboxContext
    workers: list[Any] = field(default_factory=list)


class Outbound:
    """Every outbox of the configuration, running (see the module's docstring)."""

    def __init__(
        self,
        config: Config,
        profiles: Profiles,
        store: Store,
        blobs: Blobs,
        supervisor: Supervisor,
        resolver: Resolver,
        *,
        records_stored: Callable[[], None],
        endpoint_adapter: Callable[[str], Any] = lambda name: None,
        verify: Verify | None = None,
        owner: str = "bridge",
        lease_ttl_s: float = 30.0,
        backoff_base_s: float = 1.0,
    ) -> None:
        self.config = config
        self.profiles = profiles
        self.store = store
        self.blobs = blobs
        self.supervisor = supervisor
        self.resolver = resolver
        self.records_stored = records_stored
        self.endpoint_adapter = endpoint_adapter
        self.owner = owner
        self.backoff_base_s = backoff_base_s
        self.lease_ttl_s = lease_ttl_s
        self.outboxes: dict[str, RunningOutbox] = {}
        self.stop = asyncio.Event()
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self.taker = Taker(store, self._mapper, self._routing, self._unit_of, self._taken, verify)
        self.tracker = InternalTracker(store)
        # One instance sends at a time (intake is each outbox's own source lease): the taker,
        # the roads, the tracker and the dispatch reporters work while this lease is held.
        self.lease = Lease(store, "outbound", owner, lease_ttl_s)
        self.taker.hold = self.tracker.hold = self.lease.hold

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        for unit in self.config.units:
            for settings in unit.outboxes:
                await self._start_outbox(unit, settings)
        if not self.outboxes:
            return
        start = self.supervisor.start
        self._tasks.append(start("outbox-intake", lambda: self.taker.run(self.stop), self.stop))
        self._tasks.append(
            start("internal-tracker", lambda: self.tracker.run(self.stop), self.stop)
        )

    async def close(self, grace_s: float = 5.0) -> None:
        self.stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.lease.release()  # another instance takes the sending over at once
        except Exception as exc:  # the store gone: the lease lapses after its time instead
            log.warning("lease_not_released", resource=self.lease.resource, error=repr(exc))
        await self._stack.aclose()

    async def _start_outbox(self, unit: UnitConfig, settings: SourceSettings) -> None:
        spec = self.profiles[settings.profile]
        assert spec.make_outbox is not None
        ctx = AdapterContext(
            units=(unit.id,),
            blobs=self.blobs,
            limits=limits_of(settings),
            ssl=ssl_context(settings),
        )
        adapter = await self._enter(spec.make_outbox(settings, ctx))
        health = Health(settings.name, settings.profile)
        roads = tuple(Road(r) for r in getattr(settings, "roads", ALL_ROADS))
        routing = Routing(
            roads,
            bool(getattr(settings, "require_signature", False)),
            {u.id for u in self.config.units if u.sinks},
            self.resolver,
        )
        octx = OutboxContext(
            settings.name,
            unit.id,
            self.store,
            routing,
            health,
            self.backoff_base_s,
            blobs=self.blobs,
        )
        running = RunningOutbox(settings, unit.id, adapter, health, octx)
        self.outboxes[settings.name] = running
        records = OutboxRecords(self.store, self.taker.wake.set)
        ttl = max(self.lease_ttl_s, 3 * settings.poll_interval)  # as the sources' leases
        lease = Lease(self.store, f"source:{settings.name}", self.owner, ttl)
        intake = SourceRunner(
            adapter, records, _Wake(self.taker.wake), health, settings.poll_interval, lease
        )
        self._supervise(f"outbox:{settings.name}", intake.run)
        if Road.INTERNAL in roads:
            self._road(running, InternalRoad(octx, self.records_stored))
        axis = await self._axis_sender(unit, settings, ctx)
        if Road.AXIS in roads and axis is not None:
            self._road(running, AxisRoad(octx, axis, self._take_back(unit, settings)))
        mail = await self._mail_sender(settings, ctx)
        if Road.MAIL in roads and mail is not None:
            self._road(running, MailRoad(octx, mail))
        if isinstance(adapter, DispatchReporter):
            reports = DispatchWorker(
                settings.name,
                adapter,
                self.store,
                Health(f"{settings.name}:dispatch", settings.profile),
                self.backoff_base_s,
            )
            self._road(running, reports, "dispatch")
        log.info("outbox_started", name=settings.name, unit=unit.id, roads=[r.value for r in roads])

    def _road(self, running: RunningOutbox, worker: Any, kind: str | None = None) -> None:
        worker.hold = self.lease.hold
        running.workers.append(worker)
        label = kind or type(worker).__name__.removesuffix("Road").lower()
        self._supervise(f"{label}:{running.settings.name}", worker.run)

    def _supervise(self, name: str, run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        self._tasks.append(self.supervisor.start(name, lambda: run(self.stop), self.stop))

    async def _enter(self, thing: Any) -> Any:
        if hasattr(thing, "__aenter__"):
            return await self._stack.enter_async_context(thing)
        return thing

    async def _axis_sender(
        self, unit: UnitConfig, settings: SourceSettings, ctx: AdapterContext
    ) -> Any:
        wanted = getattr(settings, "axis", None)
        for source in unit.sources:
            make = self.profiles[source.profile].make_axis_sender
            if make is not None and (wanted is None or source.name == wanted):
                node_ctx = AdapterContext(
                    units=(unit.id,),
                    blobs=self.blobs,
                    limits=limits_of(source),
                    ssl=ssl_context(source),
                )
                return await self._enter(make(source, node_ctx))
        return None

    async def _mail_sender(self, settings: SourceSettings, ctx: AdapterContext) -> Any:
        smtp = getattr(settings, "smtp", None)
        if smtp is None:
            return None
        for spec in self.profiles.values():
            if spec.make_mail_sender is not None:
                return await self._enter(spec.make_mail_sender(smtp, ctx))
        return None

    def _take_back(
        self, unit: UnitConfig, settings: SourceSettings
    ) -> Callable[[OutDoc, OutRecipient, str], Awaitable[None]] | None:
        wanted = getattr(settings, "axis", None)
        names = [s.name for s in unit.sources if wanted is None or s.name == wanted]

        async def send(doc: OutDoc, r: OutRecipient, reason: str) -> None:
            for name in names:
                adapter = self.endpoint_adapter(name)
                if isinstance(adapter, StatusSender):
                    await adapter.send_status(
                        from_organ=unit.id,
                        to_document=document_ref(doc),
                        to_organ=Organ(code=r.to or r.code, name=r.name),
                        code=TAKE_BACK_CODE,
                        description=reason,
                    )
                    return
            raise RuntimeError("no status sender for a take-back")

        return send if names else None

    # ---- what the taker, the pipeline and the operators ask -----------------------------

    def _mapper(self, outbox: str) -> Any:
        running = self.outboxes.get(outbox)
        return None if running is None else self.profiles[running.settings.profile].to_outgoing

    def _routing(self, outbox: str) -> Routing | None:
        running = self.outboxes.get(outbox)
        return None if running is None else running.ctx.routing

    def _unit_of(self, outbox: str) -> str | None:
        running = self.outboxes.get(outbox)
        return None if running is None else running.unit

    def _taken(self) -> None:
        self.wake_roads()

    def wake_roads(self) -> None:
        for running in self.outboxes.values():
            for worker in running.workers:
                worker.wake.set()
        self.tracker.wake.set()

    async def on_status(self, unit: str, message: IncomingStatus) -> None:
        """A status message the pipeline read: ours when it answers one of our documents."""
        if await axis_status(self.store, unit, message):
            self.wake_roads()

    def records_changed(self) -> None:
        self.tracker.wake.set()

    def intake_of(self, name: str) -> PushIntake | None:
        running = self.outboxes.get(name)
        if running is None or not isinstance(running.adapter, PushReceiver):
            return None
        receiver: PushReceiver = running.adapter
        records = OutboxRecords(self.store, self.taker.wake.set)

        async def intake(headers: Mapping[str, str], body: bytes) -> int:
            items: Sequence[Any] = await receiver.accept_push(headers, body)
            await records.save_records(name, list(items))
            return len(items)

        return intake

    async def status_rows(self) -> dict[str, list[dict[str, object]]]:
        """Per unit, its outboxes as /status shows them."""
        taken = (await self.store.outbound_figures())["taken"]
        rows: dict[str, list[dict[str, object]]] = {}
        for name, running in self.outboxes.items():
            h = running.health.as_dict()
            rows.setdefault(running.unit, []).append(
                {
                    "name": name,
                    "profile": running.settings.profile,
                    "state": h["state"],
                    "last_success_at": h["last_success_at"],
                    "last_error": h["last_error"],
                    "taken": int(taken.get(name, 0)),
                }
            )
        return rows


class _Wake:
    """What the source runner tells once items are stored: the taker, woken."""

    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    def notify(self) -> None:
        self.event.set()
