"""Watching the units table: a file changed on disk reloads the configuration, as SIGHUP does.

It looks at the file's identity, size and modification time every `interval` seconds (an
editor or `lienthong units import` replacing the file, a spreadsheet saved in place), waits
until a change has settled (the same on two looks a second apart), then asks for a reload.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

SETTLE_S = 1.0  # a changed file must look the same this long before it is read

Stamp = tuple[int, int, int, int] | None  # device, inode, size, mtime in ns; None: missing


def stamp(path: Path | None) -> Stamp:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class FileWatch:
    """Calls `changed()` once for each settled change of the file `path()` names (it may name
    another after a reload, or none)."""

    def __init__(
        self,
        path: Callable[[], Path | None],
        interval_s: Callable[[], float],
        changed: Callable[[], None],
        settle_s: float = SETTLE_S,
    ) -> None:
        self.path = path
        self.interval_s = interval_s
        self.changed = changed
        self.settle_s = settle_s

    async def run(self, stop: asyncio.Event) -> None:
        watched = self.path()
        last = stamp(watched)
        while not await _wait(stop, self.interval_s()):
            current = self.path()
            if current != watched:  # a reload named another table: watch that one from now
                watched, last = current, stamp(current)
                continue
            now = stamp(watched)
            if now == last:
                continue
            if await _wait(stop, self.settle_s) or stamp(watched) != now:
                continue  # still being written: look again next time
            last = now
            log.info("units_table_changed", path=str(watched))
            self.changed()


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`; True when `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
