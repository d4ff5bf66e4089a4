"""Keeping the organ directory: synced from the axis node `[directory] axis` names, at start
and every `sync_interval`, into the store (every state kept), then into the running resolver.

`getSynchronizeUnit` is asked for the changes after the version last stored; an answer whose
version is older than that (the node's directory restored from an older copy) is followed by a
full re-read (version 0). A sync that fails leaves the last good directory in force and the
error in the store (shown in /status and on the page). With several instances on one database
one syncs (the `directory` lease); every instance reloads the directory when the stored version
moves, so the matcher sees a new directory without a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog

from bridge.config import Config
from bridge.interfaces import DirectorySource
from bridge.leases import Lease
from bridge.normalize.directory import OrganDirectory
from bridge.normalize.organ_history import Successor
from bridge.store import Store
from bridge.waiting import wait_any

log = structlog.get_logger(__name__)

FAILED = "Không đồng bộ được danh bạ / Directory sync failed"
RELOAD_S = 60.0  # how often an instance not syncing looks for a newer stored directory


def configure_directory(directory: OrganDirectory, config: Config) -> OrganDirectory:
    """Give `directory` the configuration's `[[organs]]` and `[[directory.successors]]` (at
    start and on a reload); the part synced from the axis stays."""
    directory.configure(
        (o.model_dump() for o in config.organs),
        (Successor(s.old, s.new, s.since) for s in config.directory.successors),
    )
    return directory


class DirectorySync:
    """Syncs `directory` from the axis (`source` opens the node's directory; None when no
    vxp node is configured: the directory is then the configuration's and the store's)."""

    def __init__(
        self,
        store: Store,
        directory: OrganDirectory,
        source: Callable[[], AbstractAsyncContextManager[DirectorySource]] | None,
        interval_s: Callable[[], float],
    ) -> None:
        self.store = store
        self.directory = directory
        self.source = source
        self.interval_s = interval_s
        self._loaded: Any = object()  # the stored (version, synced_at) the directory shows

    async def load(self) -> None:
        """Put the stored directory into the resolver (when the store holds a newer one)."""
        state = await self.store.directory_state()
        seen = (state["version"], state["synced_at"])
        if seen != self._loaded:
            history = await self.store.directory_history()
            prepared = await asyncio.to_thread(self.directory.preparer(history))
            self.directory.install(prepared)  # one swap: lookups see the old or the new one
            self._loaded = seen
            log.info("directory_loaded", organs=state["organs"], version=state["version"])

    async def sync_once(self) -> bool:
        """One sync; True when it succeeded. A failure is stored, never raised."""
        if self.source is None:
            return False
        version = (await self.store.directory_state())["version"] or 0
        try:
            async with self.source() as node:
                entries, newest = await node.synchronize(version)
                if version and newest < version:
                    log.warning("directory_version_backwards", stored=version, axis=newest)
                    entries, newest = await node.synchronize(0)
        except Exception as exc:  # any failure of the node: the last good directory stays
            error = f"{FAILED}: {exc}"
            log.warning("directory_sync_failed", error=str(exc))
            await self.store.directory_failed(error)
            return False
        changed = await self.store.directory_save(entries, newest)
        log.info("directory_synced", version=newest, entries=len(entries), changed=changed)
        await self.load()
        return True

    async def run(self, stop: asyncio.Event, lease: Lease | None = None) -> None:
        """Load the stored directory, then sync at once and every interval (under `lease`)."""
        await self.load()
        waited = self.interval_s()
        while not stop.is_set():
            if waited >= self.interval_s() and (lease is None or await lease.hold()):
                await self.sync_once()
                waited = 0.0
            else:
                await self.load()
            step = min(RELOAD_S, self.interval_s())
            await wait_any(stop, None, step)
            waited += step
