"""The daemon: owns the store, the adapters, the workers and the HTTP server.

`Daemon.run()` enters every resource with an AsyncExitStack and runs each source, sink and the
processor as its own task, every one under the supervisor (`bridge.supervisor`): a task that
fails is logged, shown failing and restarted; one that keeps failing stops the daemon with
exit code 1. SIGTERM/SIGINT set the stop event: workers finish the record in hand and
return; after `bridge.shutdown_grace` seconds what remains is cancelled. SIGHUP reloads the
configuration: endpoints added, removed or changed are started or stopped without a restart;
an invalid new configuration is refused and the old one keeps running.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import signal
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from adapters import Profile, registry
from bridge import __version__
from bridge.blobs import Blobs, BlobStore
from bridge.config import Config, UnitConfig, load_config
from bridge.delivery import DeliveryWorker
from bridge.delivery_process import DeliveryChild, RemoteSink
from bridge.errors import ConfigError
from bridge.health import Health
from bridge.http.guard import check_listen
from bridge.interfaces import AdapterContext, Limits
from bridge.leases import Lease, default_instance
from bridge.normalize.directory import OrganDirectory
from bridge.pipeline import Processor, SourceRunner
from bridge.retention import Retention
from bridge.settings import EndpointSettings, SinkSettings, SourceSettings
from bridge.signatures import TrustStore
from bridge.status_flow import STATUS_PROFILES, StatusPoller, StatusRelay
from bridge.store import PgBlobStore, PostgresStore, Store, open_store
from bridge.supervisor import Supervisor
from bridge.tls import ssl_context

log = structlog.get_logger(__name__)


@dataclass
class Endpoint:
    """One running source or sink: its adapter, health, worker task and own stop switch."""

    settings: EndpointSettings
    units: tuple[str, ...]
    role: str
    adapter: Any
    health: Health
    task: asyncio.Task[None] | None = None
    helpers: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    runner: Any = None


class Daemon:
    """`role` "all" runs everything; "deliveries" is the child process of
    `bridge.delivery_process`: the sinks' delivery workers only."""

    def __init__(
        self, config: Config, config_path: Path | None = None, *, role: str = "all"
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.role = role
        self.delivery_child: DeliveryChild | None = None
        self.latency_observer: Callable[[str, float], None] | None = None
        self.profiles: dict[str, Profile] = dict(registry())
        self.started_at = dt.datetime.now(dt.UTC)
        self.stop = asyncio.Event()
        self.ready = False
        self.supervisor = Supervisor(self.stop.set)
        self.endpoints: dict[str, Endpoint] = {}
        self.instance = config.bridge.instance or default_instance(config.bridge.data_dir)
        if role == "deliveries":
            self.instance += "/deliveries"
        self.store: Store = open_store(
            config.bridge.database,
            config.bridge.data_dir,
            instance=self.instance,
            claim_ttl_s=_claim_ttl(config),
        )
        self.blobs: Blobs = (
            PgBlobStore(self.store, cache_dir=config.bridge.data_dir / "cache" / "blobs")
            if isinstance(self.store, PostgresStore)
            else BlobStore(config.bridge.data_dir / "blobs")
        )
        trust = TrustStore.from_folder(
            config.bridge.trust_store,
            require_revocation=config.bridge.require_revocation,
            fetch_revocation=config.bridge.fetch_revocation,
        )
        self.processor = Processor(
            self.store,
            self.profiles,
            self.profile_of_source,
            self.sinks_of,
            forward_secret=config.bridge.forward_secret,
            blobs=self.blobs,
            trust=trust,
            strict_signatures=self._strict_signatures,
            directory=OrganDirectory.from_entries(o.model_dump() for o in config.organs),
            on_enqueued=self.wake_sinks,
        )
        self.retention = Retention(
            self.store, self.blobs, config.bridge.data_dir, config.bridge.retention_days
        )
        self.version = __version__
        self.live_instances = 1

    # ---- wiring --------------------------------------------------------------------------

    def profile_of_source(self, name: str) -> str | None:
        ep = self.endpoints.get(name)
        if ep is not None:
            return ep.settings.profile
        for unit in self.config.units:
            for s in unit.sources:
                if s.name == name:
                    return s.profile
        return None

    async def _heartbeat(self) -> None:
        """Say this instance is alive, and count the live ones (for sharing sources out)."""
        ttl = self.config.bridge.lease_ttl
        lease = self._instance_lease
        while not self.stop.is_set():
            await lease.hold()
            now = time.time()
            live = {
                row["owner"]
                for row in await self.store.leases()
                if row["resource"].startswith("instance:") and row["expires_at"] > now
            }
            self.live_instances = max(1, len(live))
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=ttl / 3)
            except TimeoutError:
                continue

    def within_share(self, source: str) -> bool:
        """Whether this instance may hold `source`: each live instance keeps at most its fair
        share (sources / live instances, rounded up), the first ones by name; it hands the
        rest over so that a newly started instance gets work."""
        sources = sorted(
            n for n, (_, _, role) in self._wanted(self.config).items() if role == "source"
        )
        share = math.ceil(len(sources) / self.live_instances)
        held = sorted(
            name
            for name, ep in self.endpoints.items()
            if ep.role == "source"
            and ep.runner.lease is not None
            and ep.runner.lease.token is not None
        )
        if source not in held:
            return len(held) < share
        return held.index(source) < share

    def wake_sinks(self, names: Sequence[str]) -> None:
        """Tell these sinks' delivery workers there is work (no waiting for their next look)."""
        for name in set(names):
            ep = self.endpoints.get(name)
            if ep is not None and ep.role == "sink":
                ep.runner.wake.set()

    def _strict_signatures(self, unit_id: str) -> bool:
        return any(u.quarantine_invalid_signatures for u in self.config.units if u.id == unit_id)

    def sinks_of(self, unit_id: str) -> list[str]:
        for unit in self.config.units:
            if unit.id == unit_id:
                return [s.name for s in unit.sinks]
        return []

    def _wanted(self, config: Config) -> dict[str, tuple[EndpointSettings, tuple[str, ...], str]]:
        """Every endpoint the configuration asks for, by name, with the units it serves.

        Two vxp sources with one base_url and system_id are one axis node: one poller, named
        after the first, serving all their units.
        """
        wanted: dict[str, tuple[EndpointSettings, tuple[str, ...], str]] = {}
        nodes: dict[tuple[str, str], str] = {}
        for unit in config.units:
            for s in unit.sources:
                key = _node_key(s)
                if key is not None and key in nodes:
                    first = nodes[key]
                    settings, units, role = wanted[first]
                    wanted[first] = (settings, (*units, unit.id), role)
                    continue
                if key is not None:
                    nodes[key] = s.name
                wanted[s.name] = (s, (unit.id,), "source")
            for k in unit.sinks:
                wanted[k.name] = (k, (unit.id,), "sink")
        if self.role == "deliveries":  # the delivery process: sinks only
            return {name: w for name, w in wanted.items() if w[2] == "sink"}
        return wanted

    async def _start_endpoint(
        self, settings: EndpointSettings, units: tuple[str, ...], role: str
    ) -> None:
        spec = self.profiles[settings.profile]
        ctx = AdapterContext(
            units=units,
            blobs=self.blobs,
            limits=_limits(settings),
            ssl=ssl_context(settings),
        )
        factory = spec.make_source if role == "source" else spec.make_sink
        assert factory is not None
        ep = Endpoint(
            settings, units, role, factory(settings, ctx), Health(settings.name, settings.profile)
        )
        ep.adapter = await ep.stack.enter_async_context(ep.adapter)
        if role == "source":
            assert isinstance(settings, SourceSettings)
            lease = Lease(
                self.store, f"source:{settings.name}", self.instance, self._lease_ttl(settings)
            )
            ep.runner = SourceRunner(
                ep.adapter,
                self.store,
                self.processor,
                ep.health,
                settings.poll_interval,
                lease,
                share=self.within_share,
            )
        elif self.delivery_child is not None:  # its deliveries run in the child process
            ep.runner = RemoteSink(self.delivery_child, settings.name)
        else:
            assert isinstance(settings, SinkSettings)
            ep.runner = DeliveryWorker(
                ep.adapter,
                self.store,
                ep.health,
                max_in_flight=settings.max_in_flight,
                max_attempts=settings.max_attempts,
                rate_limit=settings.rate_limit,
                on_latency=self.latency_observer,
            )
        runner = ep.runner
        ep.task = self.supervisor.start(
            f"{role}:{settings.name}", lambda: runner.run(ep.stop), ep.stop
        )
        if self.role == "all":
            self._start_helpers(ep)
        self.endpoints[settings.name] = ep
        log.info(
            "endpoint_started",
            name=settings.name,
            role=role,
            profile=settings.profile,
            units=list(units),
        )

    def _lease_ttl(self, settings: SourceSettings) -> float:
        """Long enough to survive one slow poll, short enough to hand over quickly."""
        return max(self.config.bridge.lease_ttl, 3 * settings.poll_interval)

    def _start_helpers(self, ep: Endpoint) -> None:
        """Status relay for an axis node; status polling for a home system that reports status."""
        name = ep.settings.name
        if (
            ep.role == "source"
            and ep.settings.profile in STATUS_PROFILES
            and hasattr(ep.adapter, "send_status")
        ):
            relay = StatusRelay(
                ep.adapter, self.store, Health(f"{name}:status", ep.settings.profile)
            )
            ep.helpers.append(
                self.supervisor.start(f"status-relay:{name}", lambda: relay.run(ep.stop), ep.stop)
            )
        if ep.role == "sink" and hasattr(ep.adapter, "status"):
            assert isinstance(ep.settings, SinkSettings)
            poller = StatusPoller(ep.adapter, self.store, ep.settings.status_poll_interval)
            ep.helpers.append(
                self.supervisor.start(f"status-poll:{name}", lambda: poller.run(ep.stop), ep.stop)
            )

    async def _stop_endpoint(self, name: str, grace_s: float) -> None:
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
        for task_name in (f"{ep.role}:{name}", f"status-relay:{name}", f"status-poll:{name}"):
            self.supervisor.forget(task_name)
        await ep.stack.aclose()
        log.info("endpoint_stopped", name=name)

    # ---- lifecycle -----------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            async with self:
                await self.stop.wait()
                log.info("stopping", grace_s=self.config.bridge.shutdown_grace)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        return self.supervisor.exit_code

    def request_reload(self) -> None:
        """SIGHUP: reload in a task of its own, whose failure is logged and shown."""
        self.supervisor.once("reload", self.reload)

    async def __aenter__(self) -> Daemon:
        if self.role == "all":
            check_listen(self.config)  # refuse before anything starts
        self._stack = AsyncExitStack()
        try:
            return await self._start()
        except BaseException:
            self.stop.set()
            await self._stack.aclose()  # nothing may keep running after a failed start
            raise

    async def _start(self) -> Daemon:
        from bridge.http.server import HttpServer

        # The data folder holds the blobs (or their cache) and is what retention measures; with
        # PostgreSQL nothing else would create it.
        self.config.bridge.data_dir.mkdir(parents=True, exist_ok=True)
        await self._stack.enter_async_context(self.store)
        if self.role == "deliveries":
            return await self._start_deliveries()
        processor_lease = Lease(
            self.store, "processor", self.instance, self.config.bridge.lease_ttl
        )
        self._leases = [processor_lease]
        supervise = self.supervisor.start
        self._processor_task = supervise(
            "processor", lambda: self.processor.run(self.stop, processor_lease), self.stop
        )
        retention_lease = Lease(
            self.store, "retention", self.instance, self.config.bridge.lease_ttl
        )
        self._leases.append(retention_lease)
        self._retention_task = supervise(
            "retention", lambda: self.retention.run(self.stop, lease=retention_lease), self.stop
        )
        self._instance_lease = Lease(
            self.store, f"instance:{self.instance}", self.instance, self.config.bridge.lease_ttl
        )
        self._leases.append(self._instance_lease)
        self._heartbeat_task = supervise("heartbeat", self._heartbeat, self.stop)
        self._stack.push_async_callback(self._drain)
        if self.config.bridge.delivery_process:
            await self._start_delivery_child()
        for settings, units, role in self._wanted(self.config).values():
            await self._start_endpoint(settings, units, role)
        if self.delivery_child is not None:
            self.supervisor.watch("delivery-process", await self.delivery_child.start())
        self.http = HttpServer(self)
        await self._stack.enter_async_context(self.http)
        self.ready = True
        log.info("daemon_started", version=self.version, listen=self.config.http.listen)
        return self

    async def _start_delivery_child(self) -> None:
        if self.config_path is None:
            raise ConfigError(
                [
                    "bridge.delivery_process cần chạy từ tệp cấu hình / "
                    "bridge.delivery_process needs the daemon started from a configuration file"
                ]
            )

        def health_of(name: str) -> Health | None:
            ep = self.endpoints.get(name)
            return ep.health if ep is not None and ep.role == "sink" else None

        child = DeliveryChild(
            self.config_path, health_of, self.config.bridge.shutdown_grace, self.stop
        )
        self.delivery_child = child
        self._stack.push_async_callback(child.stop)  # after the endpoints are drained

    async def _start_deliveries(self) -> Daemon:
        """The child process of `bridge.delivery_process`: sinks and their workers only."""
        self._leases = []
        self._stack.push_async_callback(self._drain)
        for settings, units, role in self._wanted(self.config).values():
            await self._start_endpoint(settings, units, role)
        self.ready = True
        log.info("delivery_process_ready", sinks=sorted(self.endpoints))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await self._stack.aclose()

    async def _drain(self) -> None:
        """Stop every endpoint (finishing what is in hand), then the processor."""
        self.ready = False
        grace = self.config.bridge.shutdown_grace
        await asyncio.gather(*(self._stop_endpoint(n, grace) for n in list(self.endpoints)))
        if self.role == "deliveries":
            return
        background = {self._processor_task, self._retention_task, self._heartbeat_task}
        _, pending = await asyncio.wait(background, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for lease in self._leases:
            try:
                await lease.release()  # others take over at once instead of after the lease time
            except Exception as exc:  # the store gone: the lease lapses after its time instead
                log.warning("lease_not_released", resource=lease.resource, error=repr(exc))

    async def reload(self) -> bool:
        """Apply a changed configuration file; False (old one kept) when it is invalid."""
        if self.config_path is None:
            return False
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("reload_refused", errors=exc.errors)
            return False
        old_wanted, new_wanted = self._wanted(self.config), self._wanted(new)
        grace = new.bridge.shutdown_grace
        for name, spec in old_wanted.items():
            if new_wanted.get(name) != spec and name in self.endpoints:
                await self._stop_endpoint(name, grace)
        self.config = new
        for name, (settings, units, role) in new_wanted.items():
            if name not in self.endpoints:
                await self._start_endpoint(settings, units, role)
        if self.delivery_child is not None:
            self.delivery_child.reload()
        log.info("reloaded", endpoints=sorted(self.endpoints))
        return True

    def units(self) -> tuple[UnitConfig, ...]:
        return self.config.units


def _claim_ttl(config: Config) -> float:
    """How long a claimed delivery is this instance's: past the lease time (so a dead
    instance's work comes back soon) but never shorter than a slow attempt may take."""
    timeouts = [k.timeout_s for u in config.units for k in u.sinks] or [60.0]
    return max(config.bridge.lease_ttl, max(timeouts) + 30.0)


def _limits(settings: EndpointSettings) -> Limits:
    return Limits(
        http_timeout_s=settings.timeout_s,
        max_page_bytes=settings.max_page_bytes,
        max_attachment_bytes=settings.max_attachment_bytes,
        max_inline_attachment_bytes=settings.max_inline_attachment_bytes,
    )


def _node_key(settings: SourceSettings) -> tuple[str, str] | None:
    if settings.profile != "vxp":
        return None
    return (str(getattr(settings, "base_url", "")), str(getattr(settings, "system_id", "")))
