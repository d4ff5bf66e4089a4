"""The organ directory at the size of a province's share of the national one: a full sync of N
entries from the simulated axis node (fetch, store every state, build the dated index off the
loop), an incremental sync of a tenth of them deleted, and a dated identity question.

Run as `python -m bench.bench_directory [--entries N]`; prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from adapters.vxp import VxpDirectory, VxpSettings
from bridge.blobs import BlobStore
from bridge.directory_sync import DirectorySync
from bridge.interfaces import AdapterContext
from bridge.normalize import OrganDirectory
from bridge.store import SqliteStore
from simulators.vxp import VxpSim

SYSTEM, SECRET = "vxp.bench", "bench-secret"


def _code(n: int) -> str:
    return f"000.{n % 100:02d}.{n // 100 % 100:02d}.H{59 + n // 10_000:02d}"


async def measure(entries: int) -> dict[str, float | int]:
    sim = VxpSim(systems={SYSTEM: SECRET})
    for n in range(entries):
        sim.directory.put(str(n), _code(n), f"Ủy ban nhân dân xã Số {n}", center_code="N")
    async with sim:
        with tempfile.TemporaryDirectory() as tmp:
            async with SqliteStore(Path(tmp) / "lienthong.sqlite3") as store:
                settings = VxpSettings(
                    name="axis",
                    base_url=sim.base_url,
                    system_id=SYSTEM,
                    secret=SECRET,
                    timeout_s=60,
                )
                ctx = AdapterContext(units=(), blobs=BlobStore(Path(tmp) / "blobs"))
                directory = OrganDirectory()
                sync = DirectorySync(
                    store, directory, lambda: VxpDirectory(settings, ctx), lambda: 3600.0
                )
                started = time.perf_counter()
                assert await sync.sync_once()
                full_s = time.perf_counter() - started
                for n in range(0, entries, 10):
                    sim.directory.delete(str(n), dt.datetime(2025, 7, 1))
                started = time.perf_counter()
                assert await sync.sync_once()
                incremental_s = time.perf_counter() - started
                codes = [_code(n) for n in range(min(entries, 2000))]
                day = dt.date(2025, 7, 2)
                started = time.perf_counter()
                for code in codes:
                    directory.same_organ(code, codes[0], day)
                per_call_us = (time.perf_counter() - started) / len(codes) * 1e6
    return {
        "entries": entries,
        "full_sync_s": round(full_s, 3),
        "incremental_sync_s": round(incremental_s, 3),
        "same_organ_us": round(per_call_us, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.entries))))


if __name__ == "__main__":
    main()
