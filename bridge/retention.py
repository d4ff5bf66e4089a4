"""Retention: purge what is old and finished, and measure disk use for /status.

Raw records, delivered documents and their blobs are kept `bridge.retention_days`; what is
pending, quarantined, waiting or dead is never purged, whatever its age. Blobs are removed
only when no remaining record or document names them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from bridge.blobs import Blobs
from bridge.leases import Lease
from bridge.store import Store

log = structlog.get_logger(__name__)
HOOK_EVENT_DAYS = 7


@dataclass
class DiskUse:
    store_bytes: int = 0
    blob_bytes: int = 0
    free_bytes: int = 0
    total_bytes: int = 0
    measured_at: float = 0.0
    last_purge: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        used = 1 - self.free_bytes / self.total_bytes if self.total_bytes else 0.0
        return {
            "store_bytes": self.store_bytes,
            "blob_bytes": self.blob_bytes,
            "free_bytes": self.free_bytes,
            "total_bytes": self.total_bytes,
            "used_fraction": round(used, 4),
            "last_purge": self.last_purge,
        }


class Retention:
    def __init__(self, store: Store, blobs: Blobs, data_dir: Path, retention_days: int) -> None:
        self.store = store
        self.blobs = blobs
        self.data_dir = data_dir
        self.retention_days = retention_days
        self.disk = DiskUse()

    async def run(
        self,
        stop: asyncio.Event,
        purge_every_s: float = 3600.0,
        measure_every_s: float = 60.0,
        lease: Lease | None = None,
    ) -> None:
        """Measure disk use every minute and purge every hour (the first purge at start)."""
        last_purge = -purge_every_s
        while not stop.is_set():
            await self.measure()
            if time.monotonic() - last_purge >= purge_every_s:
                last_purge = time.monotonic()
                if lease is None or await lease.hold():  # one instance of a cluster purges
                    await self.purge()
            try:
                await asyncio.wait_for(stop.wait(), timeout=measure_every_s)
            except TimeoutError:
                continue

    async def purge(self, now: dt.datetime | None = None) -> dict[str, int]:
        now = now or dt.datetime.now(dt.UTC)
        cutoff = (now - dt.timedelta(days=self.retention_days)).isoformat()
        hook_cutoff = (now - dt.timedelta(days=HOOK_EVENT_DAYS)).isoformat()
        counts = await self.store.purge_before(cutoff, hook_cutoff)
        counts["blobs"] = await self._purge_blobs(now.timestamp() - self.retention_days * 86400)
        self.disk.last_purge = counts
        log.info("retention_purged", **counts)
        return counts

    async def _purge_blobs(self, cutoff_ts: float) -> int:
        removed = 0
        for key in await self.blobs.old_keys(cutoff_ts):
            if not await self.store.blob_in_use(key) and await self.blobs.delete(key):
                removed += 1
        return removed

    async def measure(self) -> DiskUse:
        usage = await asyncio.to_thread(shutil.disk_usage, self.data_dir)
        root = getattr(self.blobs, "root", None)
        blob_bytes = await asyncio.to_thread(_tree_bytes, root) if root is not None else 0
        store_bytes = await self.store.database_bytes()
        self.disk.store_bytes, self.disk.blob_bytes = store_bytes, blob_bytes
        self.disk.free_bytes, self.disk.total_bytes = usage.free, usage.total
        self.disk.measured_at = time.time()
        return self.disk


def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except FileNotFoundError:
                continue
    return total
