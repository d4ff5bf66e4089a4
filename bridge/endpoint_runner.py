"""Starting and stopping one endpoint: its adapter entered, its worker and helpers supervised.

A source gets a `SourceRunner` under its own lease; a sink a `DeliveryWorker`, or a
`RemoteSink` when its deliveries run in the delivery process. What an adapter's capabilities
call for (status relay, status polling) starts beside it (`bridge.endpoints.helpers_for`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from bridge.blobs import Blobs
from bridge.config import BridgeSection
from bridge.delivery import DeliveryWorker
from bridge.delivery_link import DeliveryChild, RemoteSink
from bridge.domain.enums import EndpointRole, ProcessRole
from bridge.domain.pacing import start_spread_s
from bridge.endpoints import Endpoint, helpers_for, home_host, limits_of
from bridge.health import Health
from bridge.ingest import PollTally, SourceRunner
from bridge.interfaces import AdapterContext, Profiles
from bridge.leases import Lease
from bridge.pipeline import Processor
from bridge.settings import EndpointSettings, SinkSettings, SourceSettings
from bridge.sharing import Share
from bridge.store import Store
from bridge.supervisor import Supervisor
from bridge.tls import ssl_context
from bridge.waiting import Pacer

log = structlog.get_logger(__name__)


STARTS_PER_S = 20.0  # first polls after a start, at most this many a second (all sources)


class EndpointStarter:
    """Starts endpoints into `endpoints` (the daemon's table) and stops them again."""

    def __init__(
        self,
        endpoints: dict[str, Endpoint],
        supervisor: Supervisor,
        profiles: Profiles,
        store: Store,
        blobs: Blobs,
        processor: Processor,
        share: Share,
        *,
        role: ProcessRole,
        settings_of: Callable[[], BridgeSection],
        delivery_child: Callable[[], DeliveryChild | None],
        latency_observer: Callable[[], Callable[[str, float], None] | None],
    ) -> None:
        self.endpoints = endpoints
        self.supervisor = supervisor
        self.profiles = profiles
        self.store = store
        self.blobs = blobs
        self.processor = processor
        self.share = share
        self.role = role
        self.settings_of = settings_of
        self.delivery_child = delivery_child
        self.latency_observer = latency_observer
        self.tally = PollTally()  # every source's polls, summed up at info once a minute
        # status questions per second to each home system, shared by its sinks' pollers
        self._status_pacers: dict[str, Pacer] = {}

    async def start(
        self, settings: EndpointSettings, units: tuple[str, ...], role: EndpointRole
    ) -> None:
        spec = self.profiles[settings.profile]
        directory = self.processor.directory
        ctx = AdapterContext(
            units=units,
            blobs=self.blobs,
            limits=limits_of(settings),
            ssl=ssl_context(settings),
            aliases=directory.unit_for if directory is not None else None,
        )
        factory = spec.make_source if role is EndpointRole.SOURCE else spec.make_sink
        assert factory is not None
        ep = Endpoint(
            settings, units, role, factory(settings, ctx), Health(settings.name, settings.profile)
        )
        ep.adapter = await ep.stack.enter_async_context(ep.adapter)
        ep.runner = self._runner(ep)
        runner = ep.runner
        ep.task = self.supervisor.start(
            f"{role}:{settings.name}", lambda: runner.run(ep.stop), ep.stop
        )
        if self.role is ProcessRole.ALL:
            ep.helpers = helpers_for(
                ep,
                self.profiles,
                self.store,
                self.supervisor,
                self.processor.directory,
                pacer_of=self._status_pacer,
            )
        self.endpoints[settings.name] = ep
        log.info(
            "endpoint_started",
            name=settings.name,
            role=role,
            profile=settings.profile,
            units=list(units),
        )

    def _runner(self, ep: Endpoint) -> SourceRunner | RemoteSink | DeliveryWorker:
        settings = ep.settings
        child = self.delivery_child()
        if ep.role is EndpointRole.SOURCE:
            assert isinstance(settings, SourceSettings)
            lease = Lease(
                self.store, f"source:{settings.name}", self.share.lease.owner, self._ttl(settings)
            )
            sources = sum(1 for _ in self.share.sources())
            return SourceRunner(
                ep.adapter,
                self.store,
                self.processor,
                ep.health,
                settings.poll_interval,
                lease,
                share=self.share.within,
                jitter=settings.poll_jitter,
                start_spread_s=start_spread_s(sources, settings.poll_interval, STARTS_PER_S),
                tally=self.tally,
            )
        if child is not None:  # its deliveries run in the child process
            return RemoteSink(child, settings.name)
        assert isinstance(settings, SinkSettings)
        return DeliveryWorker(
            ep.adapter,
            self.store,
            ep.health,
            max_in_flight=settings.max_in_flight,
            max_attempts=settings.max_attempts,
            rate_limit=settings.rate_limit,
            on_latency=self.latency_observer(),
        )

    def _status_pacer(self, settings: SinkSettings) -> Pacer:
        """The bound on status questions to `settings`' home system: one for every sink on it
        (the smallest `status_rate_limit` any of them sets)."""
        host, rate = home_host(settings), settings.status_rate_limit
        pacer = self._status_pacers.get(host)
        if pacer is None:
            pacer = self._status_pacers[host] = Pacer(rate)
        pacer.at_most(rate)
        return pacer

    def _ttl(self, settings: SourceSettings) -> float:
        """Long enough to survive one slow poll, short enough to hand over quickly; four
        intervals, so that a lease (renewed once a third of it has passed) is written at
        every other poll, not at each."""
        return max(self.settings_of().lease_ttl, 4 * settings.poll_interval)

    async def stop(self, name: str, grace_s: float) -> None:
        ep = self.endpoints.pop(name)
        ep.stop.set()
        if ep.helpers:
            await asyncio.wait(ep.helpers, timeout=grace_s)
            for t in ep.helpers:
                t.cancel()
            await asyncio.gather(*ep.helpers, return_exceptions=True)
        if ep.task is not None:
            done, _ = await asyncio.wait({ep.task}, timeout=grace_s)
            if not done:
                ep.task.cancel()
            await asyncio.gather(ep.task, return_exceptions=True)  # supervised: never raises
        for task_name in ep.task_names():
            self.supervisor.forget(task_name)
        await ep.stack.aclose()
        log.info("endpoint_stopped", name=name)
