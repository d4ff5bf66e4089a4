"""What a power cut can and cannot lose: WAL with synchronous=FULL, and nothing acknowledged to
a source that is not already on disk."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from bridge.store import SqliteStore
from simulators.demo_data import generate
from simulators.moffice import MofficeSim
from simulators.tdoffice import TdofficeSim
from tests.faults.harness import (
    ROOT,
    UNIT,
    UNIT_NAME,
    DaemonProcess,
    running,
    sources_wiring,
    wait_until,
)

READ_RECORD = """
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
row = db.execute(
    "SELECT count(*) FROM records WHERE source = ? AND external_id = ?", (sys.argv[2], sys.argv[3])
).fetchone()
print(row[0])
"""


class KillingMoffice(MofficeSim):
    """An M-Office that pulls the plug on the daemon the moment a receipt call arrives."""

    pid: int | None = None
    killed_for: str | None = None

    async def _receipt(self, request: web.Request) -> web.Response:
        if self.pid is not None and self.killed_for is None:
            self.killed_for = request.match_info["item_id"]
            os.kill(self.pid, signal.SIGKILL)
        return await super()._receipt(request)


async def test_store_pragmas_on_a_real_file(tmp_path: Path) -> None:
    """The SQLite store runs in WAL mode with synchronous=FULL (2) on a file on disk."""
    async with SqliteStore(tmp_path / "lienthong.sqlite3") as store:
        # The writer is the connection whose commits must be durable.
        assert await store.writer.execute_fetchall("PRAGMA journal_mode") == [("wal",)]
        assert await store.writer.execute_fetchall("PRAGMA synchronous") == [(2,)]
    assert (tmp_path / "lienthong.sqlite3").stat().st_size > 0


async def test_record_acknowledged_to_a_source_is_on_disk(tmp_path: Path) -> None:
    """Killed -9 as its first receipt reaches M-Office, the daemon left that record on disk."""
    async with (
        running(KillingMoffice(seed=1)) as source,
        running(TdofficeSim(seed=2, api_key="home")) as home,
    ):
        for seed in generate(seed=3, count=5, units=[UNIT]):
            source.add_document(seed.document, seed.files, unit=UNIT)
        road = {"name": "vd-moffice", "profile": "moffice", "poll_interval": 0.2}
        road |= sources_wiring(source, "moffice")
        sink = {"name": "vd-home", "profile": "tdoffice", "base_url": home.base_url}
        sink["api_key"] = home.api_key
        unit = {"id": UNIT, "name": UNIT_NAME, "sources": [road], "sinks": [sink]}
        daemon = DaemonProcess(tmp_path, {"units": [unit]})
        await daemon.start(wait_ready=False)
        assert daemon.proc is not None
        source.pid = daemon.proc.pid
        await wait_until(lambda: source.killed_for is not None, timeout_s=30, what="a receipt")
        assert await asyncio.wait_for(daemon.proc.wait(), timeout=10) == -signal.SIGKILL
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            READ_RECORD,
            str(daemon.db_path),
            "vd-moffice",
            str(source.killed_for),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert out.strip() == b"1", "the acknowledged record is in the store file"
