"""The units table's watch: one reload per settled change (rewritten in place, replaced,
removed), none while nothing changes, and the file a reload names from then on."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bridge.config_watch import FileWatch
from tests.e2e.harness import wait_until


async def test_each_settled_change_asks_for_one_reload(tmp_path: Path) -> None:
    table = tmp_path / "units.csv"
    table.write_text("code\n000.01.01.H49\n", encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("code\n", encoding="utf-8")
    watched = [table]
    calls: list[int] = []
    watch = FileWatch(lambda: watched[0], lambda: 0.05, lambda: calls.append(1), settle_s=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(watch.run(stop))
    try:
        await asyncio.sleep(0.3)
        assert calls == [], "nothing changed"
        table.write_text("code\n000.01.01.H49\n000.01.02.H49\n", encoding="utf-8")
        await wait_until(lambda: len(calls) == 1, timeout_s=5, what="rewritten in place")
        replacement = tmp_path / "new.csv"
        replacement.write_text("code\n000.01.03.H49\n", encoding="utf-8")
        os.replace(replacement, table)
        await wait_until(lambda: len(calls) == 2, timeout_s=5, what="replaced")
        table.unlink()
        await wait_until(lambda: len(calls) == 3, timeout_s=5, what="removed")
        watched[0] = other  # a reload named another table: its current state is the start
        await asyncio.sleep(0.3)
        assert len(calls) == 3
        other.write_text("code\n000.01.04.H49\n", encoding="utf-8")
        await wait_until(lambda: len(calls) == 4, timeout_s=5, what="the other table")
        await asyncio.sleep(0.3)
        assert len(calls) == 4, "one change, one reload"
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
