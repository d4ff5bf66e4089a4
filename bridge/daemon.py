"""The daemon: runs the store, the endpoints, the workers and a frontend as supervised tasks.

`Daemon.run()` enters every resource with an AsyncExitStack and runs each source, sink and the
processor as its own task, every one under the supervisor (`bridge.supervisor`): a task that
fails is logged, shown failing and restarted; one that keeps failing stops the daemon with
exit code 1. SIGTERM/SIGINT set the stop event: workers finish the record in hand and
return; after `bridge.shutdown_grace` seconds what remains is cancelled. SIGHUP reloads the
configuration: endpoints added, removed or changed are started or stopped without a restart;
an invalid new configuration is refused and the old one keeps running.

It builds nothing from the registry itself: `bridge.app` hands it its `Parts`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from bridge import __version__
from bridge.alerts.monitor import AlertMonitor
from bridge.blobs import Blobs
from bridge.config import Config, UnitConfig
from bridge.config_watch import FileWatch
from bridge.controls import EndpointControls
from bridge.delivery_link import DeliveryChild
from bridge.directory_sync import DirectorySync, configure_directory
from bridge.domain.enums import EndpointRole, ProcessRole
from bridge.endpoint_runner import EndpointStarter
from bridge.endpoints import Endpoint, Wanted, intake_for, served_by, wanted
from bridge.errors import ConfigError
from bridge.health import Health
from bridge.interfaces import Profile, Profiles, UnitsServed
from bridge.leases import Lease
from bridge.normalize.directory import OrganDirectory
from bridge.outbound.actions import cancel, retry
from bridge.outbound.manager import Outbound
from bridge.pipeline import Processor
from bridge.retention import Retention
from bridge.services import ControlResult, PushIntake, Services, Tasks
from bridge.settings import EndpointSettings
from bridge.sharing import Share
from bridge.store import Store
from bridge.supervisor import Supervisor

log = structlog.get_logger(__name__)


class Frontend(AbstractAsyncContextManager[Any], Protocol):
    """What serves the running daemon to the outside (the HTTP server): refuses what it cannot
    serve before anything starts, and is entered last, once every endpoint runs."""

    port: int  # the port it listens on, once entered

    def check(self) -> None: ...


@dataclass(frozen=True)
class Parts:
    """What the composition root builds for a daemon from its configuration and registry."""

    profiles: Profiles
    load_config: Callable[[Path], Config]  # a changed file, read on SIGHUP
    instance: str
    store: Store
    blobs: Blobs
    processor: Callable[[Daemon], Processor]  # wired to the daemon's endpoints and config
    retention: Retention
    frontend: Callable[[Services], Frontend] | None = None
    alerts: Callable[[Daemon], AlertMonitor] | None = None
    directory: Callable[[Daemon], DirectorySync] | None = None  # the organ directory's sync
    outbound: Callable[[Daemon], Outbound] | None = None  # sending (văn bản đi)


class Daemon:
    """`role` all runs everything; deliveries is the child process of `bridge.delivery_process`:
    the sinks' delivery workers only.

    It is the `RuntimeView` and the `OperatorActions` of `bridge.services`; what it serves
    outside sees only those (`services()`)."""

    def __init__(
        self,
        config: Config,
        config_path: Path | None = None,
        *,
        parts: Parts,
        role: ProcessRole = ProcessRole.ALL,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.role = role
        self.parts = parts
        self.profiles: dict[str, Profile] = dict(parts.profiles)  # its own table
        self.instance = parts.instance
        self.store = parts.store
        self.blobs = parts.blobs
        self.retention = parts.retention
        self.delivery_child: DeliveryChild | None = None
        self.latency_observer: Callable[[str, float], None] | None = None
        self.started_at = dt.datetime.now(dt.UTC)
        self.stop = asyncio.Event()
        self.ready = False
        self.supervisor = Supervisor(self.stop.set)
        self.endpoints: dict[str, Endpoint] = {}
        self.version = __version__
        self._http: Frontend | None = None
        self.outbound: Outbound | None = None
        self.processor = parts.processor(self)
        self.share = Share(
            self.store,
            Lease(self.store, f"instance:{self.instance}", self.instance, config.bridge.lease_ttl),
            config.bridge.lease_ttl,
            sources=lambda: (
                n for n, w in self._wanted(self.config).items() if w[2] is EndpointRole.SOURCE
            ),
            held=self._held_sources,
        )
        self._background: set[asyncio.Task[None]] = set()
        # for which configuration: configured source -> (its polling endpoint, units served)
        self._served: tuple[Config | None, dict[str, tuple[str, tuple[str, ...]]]] = (None, {})
        self._wanted_for: tuple[Config | None, Wanted] = (None, {})
        self._directory_sync: DirectorySync | None = None
        self._controls = EndpointControls(self.endpoints, self.store)
        self._starter = EndpointStarter(
            self.endpoints,
            self.supervisor,
            self.profiles,
            self.store,
            self.blobs,
            self.processor,
            self.share,
            role=role,
            settings_of=lambda: self.config.bridge,
            delivery_child=lambda: self.delivery_child,
            latency_observer=lambda: self.latency_observer,
        )

    # ---- what the processor and the services ask -----------------------------------------

    def wake_sinks(self, names: Iterable[str]) -> None:
        """Tell these sinks' delivery workers there is work (no waiting for their next look)."""
        for name in set(names):
            ep = self.endpoints.get(name)
            if ep is not None and ep.role is EndpointRole.SINK:
                ep.runner.wake.set()

    def prefer_deliveries(self, pairs: Iterable[tuple[str, int]]) -> None:
        """A pushed document's deliveries were enqueued: each sink starts them before its
        backlog (where the sink's worker runs in this process; else it is only woken)."""
        for name, document_id in pairs:
            ep = self.endpoints.get(name)
            if ep is not None and ep.role is EndpointRole.SINK:
                prefer = getattr(ep.runner, "prefer", None)
                if prefer is not None:
                    prefer(document_id)
                else:
                    ep.runner.wake.set()

    def records_changed(self) -> None:
        self.processor.notify()

    def deliveries_changed(self) -> None:
        self.wake_sinks(list(self.endpoints))

    async def pause_source(self, name: str, actor: str) -> ControlResult:
        return await self._controls.pause_source(name, actor)

    async def resume_source(self, name: str, actor: str) -> ControlResult:
        return await self._controls.resume_source(name, actor)

    async def poll_now(self, name: str, actor: str) -> ControlResult:
        return await self._controls.poll_now(name, actor)

    async def retry_sink(self, name: str, actor: str) -> ControlResult:
        return await self._controls.retry_sink(name, actor)

    @property
    def http(self) -> Frontend:
        """The frontend serving this daemon (the HTTP server), once entered."""
        assert self._http is not None, "no frontend: not entered, or the delivery process"
        return self._http

    @property
    def tasks(self) -> Tasks:
        return self.supervisor

    def units(self) -> tuple[UnitConfig, ...]:
        return self.config.units

    def healths(self) -> dict[str, Health]:
        return {name: ep.health for name, ep in self.endpoints.items()}

    def health_of(self, name: str) -> Health | None:
        ep = self.endpoints.get(name)
        if ep is None and self.outbound is not None and name in self.outbound.outboxes:
            return self.outbound.outboxes[name].health
        return ep.health if ep is not None else None

    async def outbox_rows(self) -> dict[str, list[dict[str, object]]]:
        return await self.outbound.status_rows() if self.outbound is not None else {}

    async def retry_recipient(self, doc_id: int, code: str, actor: str) -> dict[str, object]:
        done = await retry(self.store, doc_id, code, actor)
        if self.outbound is not None:
            self.outbound.wake_roads()
        return done

    async def cancel_recipient(self, doc_id: int, code: str, actor: str) -> dict[str, object]:
        done = await cancel(self.store, doc_id, code, actor)
        if self.outbound is not None:
            self.outbound.wake_roads()
        return done

    def disk(self) -> dict[str, object]:
        return self.retention.disk.as_dict()

    def node_of(self, source: str) -> tuple[str, tuple[str, ...]]:
        config = self.config
        if self._served[0] is not config:
            nodes = served_by(config, self.profiles)
            units: dict[str, tuple[str, ...]] = {}
            for unit in config.units:
                for s in unit.sources:
                    node = nodes.get(s.name, s.name)
                    units[node] = (*units.get(node, ()), unit.id)
            self._served = (config, {n: (node, units[node]) for n, node in nodes.items()})
        return self._served[1].get(source, (source, ()))

    def directory(self) -> OrganDirectory | None:
        return self.processor.directory

    def intake_of(self, name: str) -> PushIntake | None:
        if self.outbound is not None and (push := self.outbound.intake_of(name)) is not None:
            return push
        return intake_for(
            self.endpoints.get(name), self.store, self.processor.notify, self.processor.urgent
        )

    def services(self) -> Services:
        return Services(
            self.config.http, self.store, self, self, self.intake_of, lambda: self.config.operators
        )

    def _wanted(self, config: Config) -> Wanted:
        """What `config` asks for, worked out once per configuration (every source's poll
        asks, through its fair share: at hundreds of sources that was most of the idle CPU)."""
        if self._wanted_for[0] is not config:
            self._wanted_for = (config, wanted(config, self.profiles, self.role))
        return self._wanted_for[1]

    def _held_sources(self) -> list[str]:
        return [
            name
            for name, ep in self.endpoints.items()
            if ep.role is EndpointRole.SOURCE
            and ep.runner.lease is not None
            and ep.runner.lease.token is not None
        ]

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
        if self.role is ProcessRole.ALL and self.parts.frontend is not None:
            self._http = self.parts.frontend(self.services())
            self._http.check()  # refuse before anything starts
        self._stack = AsyncExitStack()
        try:
            return await self._start()
        except BaseException:
            self.stop.set()
            await self._stack.aclose()  # nothing may keep running after a failed start
            raise

    async def _start(self) -> Daemon:
        # The data folder holds the blobs (or their cache) and is what retention measures; with
        # PostgreSQL nothing else would create it.
        self.config.bridge.data_dir.mkdir(parents=True, exist_ok=True)
        await self._stack.enter_async_context(self.store)
        self._leases: list[Lease] = []
        self._stack.push_async_callback(self._drain)
        if self.role is ProcessRole.DELIVERIES:
            return await self._start_deliveries()
        if self.parts.directory is not None:  # the stored directory, before anything matches
            self._directory_sync = self.parts.directory(self)
            await self._directory_sync.load()
        self._start_background()
        if self.config.bridge.delivery_process:
            self._start_delivery_child()
        for settings, units, role in self._wanted(self.config).values():
            await self._starter.start(settings, units, role)
        if self.delivery_child is not None:
            self.supervisor.watch("delivery-process", await self.delivery_child.start())
        if self.parts.outbound is not None and any(u.outboxes for u in self.config.units):
            self.outbound = self.parts.outbound(self)
            self._stack.push_async_callback(self.outbound.close, self.config.bridge.shutdown_grace)
            await self.outbound.start()
        if self._http is not None:
            await self._stack.enter_async_context(self._http)
        self.ready = True
        log.info("daemon_started", version=self.version, listen=self.config.http.listen)
        return self

    def _start_background(self) -> None:
        """The processor, retention, the heartbeat and the alerts, each under its own lease."""
        ttl = self.config.bridge.lease_ttl
        processor_lease = Lease(self.store, "processor", self.instance, ttl)
        retention_lease = Lease(self.store, "retention", self.instance, ttl)
        self._leases = [processor_lease, retention_lease, self.share.lease]
        supervise = self.supervisor.start
        self._background = {
            supervise(
                "processor", lambda: self.processor.run(self.stop, processor_lease), self.stop
            ),
            supervise(
                "retention", lambda: self.retention.run(self.stop, lease=retention_lease), self.stop
            ),
            supervise("heartbeat", lambda: self.share.heartbeat(self.stop), self.stop),
        }
        if self.config_path is not None:  # a changed units table reloads, as SIGHUP does
            watch = FileWatch(
                lambda: self.config.bridge.units_table,
                lambda: self.config.bridge.units_check_interval,
                self.request_reload,
            )
            self._background.add(supervise("units-watch", lambda: watch.run(self.stop), self.stop))
        if self.parts.alerts is not None:  # e-mail and webhook alerts, one instance sending
            monitor = self.parts.alerts(self)
            alerts_lease = Lease(self.store, "alerts", self.instance, ttl)
            self._leases.append(alerts_lease)
            self._background.add(
                supervise("alerts", lambda: monitor.run(self.stop, alerts_lease), self.stop)
            )
        if self._directory_sync is not None:  # synced by one instance, reloaded by each
            sync = self._directory_sync
            directory_lease = Lease(self.store, "directory", self.instance, ttl)
            self._leases.append(directory_lease)
            self._background.add(
                supervise("directory", lambda: sync.run(self.stop, directory_lease), self.stop)
            )

    def _start_delivery_child(self) -> None:
        if self.config_path is None:
            raise ConfigError(
                [
                    "bridge.delivery_process cần chạy từ tệp cấu hình / "
                    "bridge.delivery_process needs the daemon started from a configuration file"
                ]
            )

        def health_of(name: str) -> Health | None:
            ep = self.endpoints.get(name)
            return ep.health if ep is not None and ep.role is EndpointRole.SINK else None

        child = DeliveryChild(
            self.config_path, health_of, self.config.bridge.shutdown_grace, self.stop
        )
        self.delivery_child = child
        self._stack.push_async_callback(child.stop)  # after the endpoints are drained

    async def _start_deliveries(self) -> Daemon:
        """The child process of `bridge.delivery_process`: sinks and their workers only."""
        for settings, units, role in self._wanted(self.config).values():
            await self._starter.start(settings, units, role)
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
        await asyncio.gather(*(self._starter.stop(n, grace) for n in list(self.endpoints)))
        if not self._background:  # the delivery process, or a start that failed early
            return
        _, pending = await asyncio.wait(self._background, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
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
            new = self.parts.load_config(self.config_path)
        except ConfigError as exc:
            log.error("reload_refused", errors=exc.errors)
            return False
        old_wanted, new_wanted = self._wanted(self.config), self._wanted(new)
        grace = new.bridge.shutdown_grace
        changed = [
            name
            for name, spec in old_wanted.items()
            if new_wanted.get(name) != spec and name in self.endpoints
        ]
        served = [name for name in changed if self._serve_units(name, new_wanted.get(name))]
        stopped = [name for name in changed if name not in served]
        await asyncio.gather(*(self._starter.stop(name, grace) for name in stopped))
        self.config = new
        if self.processor.directory is not None:  # [[organs]], [[directory.successors]]
            configure_directory(self.processor.directory, new)
        started = []
        for name, (settings, units, role) in new_wanted.items():
            if name not in self.endpoints:
                await self._starter.start(settings, units, role)
                started.append(name)
        if self.delivery_child is not None:
            self.delivery_child.reload()
        log.info(
            "reloaded",
            endpoints=len(self.endpoints),
            stopped=stopped,
            started=started,
            units_changed=served,
        )
        return True

    def _serve_units(
        self, name: str, new: tuple[EndpointSettings, tuple[str, ...], EndpointRole] | None
    ) -> bool:
        """A shared node whose only change is the units it serves takes them as it runs;
        False when the endpoint must be restarted instead."""
        ep = self.endpoints[name]
        if new is None or new[0] != ep.settings or new[2] is not ep.role:
            return False
        if not isinstance(ep.adapter, UnitsServed):
            return False
        ep.adapter.serve_units(new[1])
        ep.units = new[1]
        return True
