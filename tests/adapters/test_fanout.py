"""Fetching a page's files together: the bound, order, and what a failure stops."""

from __future__ import annotations

import asyncio

import pytest

from adapters._fanout import Fetch, fetch_all
from bridge.errors import PermanentError, TransientError


class Work:
    """Fetch bodies that take `delay_s` and note how many run at once and which started."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self.started: list[str] = []
        self.finished: list[str] = []

    def fetch(
        self, record: int, name: str, delay_s: float = 0.02, fail: Exception | None = None
    ) -> Fetch[str]:
        async def run() -> str:
            self.started.append(name)
            self.now += 1
            self.peak = max(self.peak, self.now)
            try:
                await asyncio.sleep(delay_s)
                if fail is not None:
                    raise fail
                self.finished.append(name)
                return name
            finally:
                self.now -= 1

        return Fetch(record, run)


async def test_results_by_record_in_order_within_the_bound() -> None:
    """At most the semaphore's count run at once; each record gets its results in order."""
    work = Work()
    fetches = [
        work.fetch(r, f"{r}.{k}", delay_s=0.01 * (3 - k)) for r in range(4) for k in range(3)
    ]
    out = await asyncio.wait_for(fetch_all(fetches, asyncio.Semaphore(3)), timeout=10)
    assert work.peak == 3
    assert out == {r: [f"{r}.{k}" for k in range(3)] for r in range(4)}


async def test_permanent_failure_settles_only_its_record() -> None:
    """A PermanentError becomes its record's result; that record's later fetches are skipped,
    every other record is fetched whole."""
    work = Work()
    refused = PermanentError("tệp hỏng / broken file")
    fetches = [
        work.fetch(0, "0.0"),
        work.fetch(1, "1.0", fail=refused),
        work.fetch(1, "1.1"),
        work.fetch(2, "2.0"),
    ]
    out = await asyncio.wait_for(fetch_all(fetches, asyncio.Semaphore(1)), timeout=10)
    assert out == {0: ["0.0"], 1: refused, 2: ["2.0"]}
    assert "1.1" not in work.started


async def test_transient_failure_stops_what_has_not_started_and_waits_for_the_rest() -> None:
    """A TransientError is raised once the fetches already running have finished; fetches
    not yet started never start."""
    work = Work()
    fetches = [
        work.fetch(0, "slow", delay_s=0.2),
        work.fetch(1, "down", delay_s=0.01, fail=TransientError("503")),
        *(work.fetch(2 + n, f"later {n}") for n in range(5)),
    ]
    with pytest.raises(TransientError):
        await asyncio.wait_for(fetch_all(fetches, asyncio.Semaphore(2)), timeout=10)
    assert work.finished == ["slow"] and work.now == 0
    assert not any(name.startswith("later") for name in work.started)


async def test_no_fetches_no_results() -> None:
    """Records without files have no entry."""
    assert await fetch_all([], asyncio.Semaphore(1)) == {}
