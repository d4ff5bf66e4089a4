"""The delivery worker's breaker against the real tdoffice simulator and a SQLite file: an
outage counts once however many deliveries were in flight, each delivery keeps its own
backoff, and what the outage parked goes as soon as the sink answers again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters import registry
from adapters.tdoffice.settings import TdofficeSinkSettings
from bridge.blobs import BlobStore
from bridge.delivery import DELIVERY_BASE_S, DeliveryWorker
from bridge.health import FAILING, Health
from bridge.interfaces import AdapterContext
from bridge.store import SqliteStore
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import wait_until
from tests.store.conftest import document, new_document_outcome, raw

SINK = "home"
CREATE = "/api/v2/documents/incoming"


@dataclass
class Bench:
    store: SqliteStore
    worker: DeliveryWorker
    health: Health
    home: TdofficeSim


async def _enqueue(store: SqliteStore, count: int) -> None:
    for i in range(count):
        (rid,) = await store.save_records([raw(f"doc-{i}")])
        doc = document(number=str(100 + i), subject=f"Về việc số {i}")
        await store.apply(new_document_outcome(rid, doc, triple=f"h55|{100 + i}|2024"))


@asynccontextmanager
async def _bench(tmp_path: Path, home: TdofficeSim, documents: int) -> AsyncIterator[Bench]:
    """A worker for the simulator's sink with `documents` deliveries due, running."""
    settings = TdofficeSinkSettings(
        name=SINK, profile="tdoffice", base_url=home.base_url, api_key=home.api_key, timeout_s=5
    )
    ctx = AdapterContext(units=("u1",), blobs=BlobStore(tmp_path / "blobs"))
    make_sink = registry()["tdoffice"].make_sink
    assert make_sink is not None
    health = Health(SINK, "tdoffice")
    async with (
        SqliteStore(tmp_path / "lienthong.sqlite3") as store,
        make_sink(settings, ctx) as sink,
    ):
        await _enqueue(store, documents)
        worker = DeliveryWorker(sink, store, health, max_in_flight=4)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            yield Bench(store, worker, health, home)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)


async def _attempted(store: SqliteStore, count: int) -> list[int]:
    rows = await store.db.execute_fetchall("SELECT attempts FROM outbox ORDER BY id")
    return [r[0] for r in rows][:count]


async def test_deliveries_failing_together_count_one_sink_failure(tmp_path: Path) -> None:
    """Six deliveries in flight when the home system goes down: one failure of the sink, and
    each delivery's next try is set by its own first attempt (seconds), not by the others."""
    async with TdofficeSim(api_key="home") as home:
        home.faults.down = True
        async with _bench(tmp_path, home, documents=6) as bench:

            async def all_tried() -> bool:
                return all(a >= 1 for a in await _attempted(bench.store, 6))

            await wait_until(all_tried, timeout_s=10, what="six first attempts")
            failures = bench.health.failures
            rows = await bench.store.db.execute_fetchall(
                "SELECT next_attempt_at FROM outbox WHERE attempts = 1"
            )
            now = time.time()
        assert len(home.calls("POST", CREATE)) >= 6, "the six were in flight together"
        assert failures == 1, f"one outage counted {failures} times"
        assert bench.health.state == FAILING  # never reached since start: red, not green
        assert rows and all(at - now <= 2 * DELIVERY_BASE_S + 0.5 for (at,) in rows)


async def test_parked_deliveries_go_within_seconds_of_the_sink_answering(tmp_path: Path) -> None:
    """Deliveries parked by an outage (one put off for ten minutes, as after many tries) all
    reach the home system within five seconds of its first good answer."""
    async with TdofficeSim(api_key="home") as home:
        home.faults.down = True
        async with _bench(tmp_path, home, documents=8) as bench:
            await wait_until(lambda: bench.health.failures >= 3, timeout_s=20, what="an outage")
            (far,) = await bench.store.db.execute_fetchall("SELECT min(id) FROM outbox")
            await bench.store.schedule_retry(far[0], time.time() + 600, "HTTP 503")
            home.faults.down = False
            back_at = time.monotonic()
            await wait_until(lambda: len(home.received) == 8, timeout_s=15, what="all eight")
            took_s = time.monotonic() - back_at
            counts = await bench.store.counts()
        assert took_s <= 5.0, f"deliveries resumed {took_s:.1f}s after the sink came back"
        assert counts["per_sink"][SINK].get("pending", 0) == 0
        assert len({b["codeNumber"] for b in home.received.values()}) == 8
