"""The composition root: the one place that builds the bridge from its configuration and the
adapter registry, and wires the parts together.

Everything else receives what it uses: the configuration is validated against the registry
handed to it, the daemon is handed its store, blobs, processor and frontend, and the HTTP
layer its narrow `bridge.services.Services`. Only this module (and `bridge.cli` through it)
asks `adapters` for the registry; the simulators are never imported here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar

from adapters import registry
from bridge import config as configuration
from bridge import config_check
from bridge.alerts.monitor import AlertMonitor
from bridge.blobs import Blobs, BlobStore
from bridge.config import Config
from bridge.config_check import Reached
from bridge.daemon import Daemon, Frontend, Parts
from bridge.directory_sync import DirectorySync, configure_directory
from bridge.domain.enums import ProcessRole
from bridge.endpoints import (
    claim_ttl,
    limits_of,
    profile_of_source,
    sinks_of,
    strict_signatures,
)
from bridge.http.server import HttpServer
from bridge.interfaces import AdapterContext, DirectorySource, Profiles
from bridge.leases import default_instance
from bridge.normalize.directory import OrganDirectory
from bridge.pipeline import Processor
from bridge.retention import Retention
from bridge.services import Services
from bridge.signatures import TrustStore
from bridge.store import PgBlobStore, PostgresStore, Store, open_store
from bridge.tls import ssl_context

T = TypeVar("T")


def profiles() -> Profiles:
    """Every profile the bridge speaks (the adapter registry)."""
    return registry()


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    """Read and validate a configuration file against the registry. Raises ConfigError."""
    return configuration.load_config(path, environ, profiles=profiles())


def parse_config(raw: dict[str, Any], environ: dict[str, str], base: Path = Path(".")) -> Config:
    """Validate a configuration read already against the registry. Raises ConfigError."""
    return configuration.parse_config(raw, environ, base, profiles=profiles())


async def connect_all(config: Config, timeout_s: float) -> list[Reached]:
    """`check-config --connect`: log in to every endpoint and the database."""
    return await config_check.connect_all(config, timeout_s, profiles=profiles())


def build_daemon(
    config: Config, config_path: Path | None = None, *, role: ProcessRole = ProcessRole.ALL
) -> Daemon:
    """A daemon wired from `config`: its store and blobs, processor, retention and (for the
    main process) the HTTP server. Nothing runs until it is entered or `run()`."""
    bridge = config.bridge
    instance = bridge.instance or default_instance(bridge.data_dir)
    if role is ProcessRole.DELIVERIES:
        instance += "/deliveries"
    store = open_store(
        bridge.database, bridge.data_dir, instance=instance, claim_ttl_s=claim_ttl(config)
    )
    blobs = _blobs(store, bridge.data_dir)
    parts = Parts(
        profiles=profiles(),
        load_config=load_config,
        instance=instance,
        store=store,
        blobs=blobs,
        processor=lambda daemon: _processor(daemon, config),
        retention=Retention(store, blobs, bridge.data_dir, bridge.retention_days),
        frontend=_http_server,
        alerts=_alerts,
        directory=_directory_sync,
    )
    return Daemon(config, config_path, parts=parts, role=role)


def organ_directory(config: Config) -> OrganDirectory:
    """The organ directory of the configuration (`[[organs]]`, `[[directory.successors]]`);
    the axis's part is added from the store by the directory sync."""
    return configure_directory(OrganDirectory(), config)


def _directory_sync(daemon: Daemon) -> DirectorySync:
    """The directory sync of the processor's directory, from the `[directory] axis` node."""
    config = daemon.config
    settings = configuration.directory_axis(config, daemon.profiles)
    directory = daemon.processor.directory
    assert directory is not None
    source: Callable[[], AbstractAsyncContextManager[DirectorySource]] | None = None
    if settings is not None:
        make = daemon.profiles[settings.profile].make_directory_source
        assert make is not None
        ctx = AdapterContext(
            units=(),
            blobs=daemon.blobs,
            limits=limits_of(settings),
            ssl=ssl_context(settings),
        )
        source = lambda: make(settings, ctx)  # noqa: E731 - a fresh session per sync
    return DirectorySync(
        daemon.store, directory, source, lambda: daemon.config.directory.sync_interval
    )


def _blobs(store: Store, data_dir: Path) -> Blobs:
    if isinstance(store, PostgresStore):
        return PgBlobStore(store, cache_dir=data_dir / "cache" / "blobs")
    return BlobStore(data_dir / "blobs")


def _processor(daemon: Daemon, config: Config) -> Processor:
    """The processor, asking the daemon what the current configuration and endpoints say."""
    bridge = config.bridge
    trust = TrustStore.from_folder(
        bridge.trust_store,
        require_revocation=bridge.require_revocation,
        fetch_revocation=bridge.fetch_revocation,
    )
    return Processor(
        daemon.store,
        daemon.profiles,
        lambda source: profile_of_source(source, daemon.endpoints, daemon.config),
        lambda unit: sinks_of(daemon.config, unit),
        forward_secret=bridge.forward_secret,
        blobs=daemon.blobs,
        trust=trust,
        strict_signatures=lambda unit: strict_signatures(daemon.config, unit),
        directory=organ_directory(config),
        on_enqueued=daemon.wake_sinks,
    )


def _alerts(daemon: Daemon) -> AlertMonitor:
    """The alert monitor, reading the current configuration and endpoints of the daemon."""
    return AlertMonitor(
        daemon.store,
        lambda: daemon.config.alerts,
        lambda: daemon.endpoints,
        lambda: {u.id: u.name for u in daemon.config.units},
        daemon.started_at,
    )


def _http_server(services: Services) -> Frontend:
    return HttpServer(services)


def run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to its end on uvloop where it is installed, asyncio's own loop elsewhere."""
    try:
        import uvloop  # optional: not built for every platform
    except ImportError:  # pragma: no cover - uvloop is optional on some platforms
        return asyncio.run(coro)
    return uvloop.run(coro)


async def serve(config: Config, config_path: Path | None = None) -> int:
    """Run the daemon until it is stopped; its exit code."""
    return await build_daemon(config, config_path).run()
