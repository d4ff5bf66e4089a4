"""Delivery workers that sleep until told: an idle worker does not read the outbox every
second, a delivery enqueued while it sleeps goes out at once when it is woken, and a retry
goes out at its due time without anyone waking it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from adapters import registry
from adapters.tdoffice.settings import TdofficeSinkSettings
from bridge.blobs import BlobStore
from bridge.delivery import DeliveryWorker
from bridge.domain.enums import DeliveryState
from bridge.health import Health
from bridge.interfaces import AdapterContext
from bridge.store import Delivery, SqliteStore
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import wait_until
from tests.store.conftest import document, new_document_outcome, raw

SINK = "home"
CREATE = "/api/v2/documents/incoming"


class CountingStore(SqliteStore):
    """The real store, counting how often a worker looks for due deliveries."""

    looks = 0

    async def due_deliveries(
        self, sink: str, limit: int, now: float | None = None
    ) -> list[Delivery]:
        self.looks += 1
        return await super().due_deliveries(sink, limit, now)


async def _enqueue(store: SqliteStore, n: int) -> None:
    (rid,) = await store.save_records([raw(f"doc-{n}")])
    doc = document(number=str(500 + n), subject=f"Về việc số {n}")
    await store.apply(new_document_outcome(rid, doc, triple=f"h55|{500 + n}|2024"))


async def _states(store: SqliteStore) -> list[str]:
    rows = await store.db.execute_fetchall("SELECT state FROM outbox ORDER BY id")
    return [str(r[0]) for r in rows]


async def _run(tmp_path: Path, home: TdofficeSim, body: Any) -> None:
    settings = TdofficeSinkSettings(
        name=SINK, profile="tdoffice", base_url=home.base_url, api_key=home.api_key, timeout_s=5
    )
    ctx = AdapterContext(units=("u1",), blobs=BlobStore(tmp_path / "blobs"))
    make_sink = registry()["tdoffice"].make_sink
    assert make_sink is not None
    async with (
        CountingStore(tmp_path / "lienthong.sqlite3") as store,
        make_sink(settings, ctx) as sink,
    ):
        worker = DeliveryWorker(sink, store, Health(SINK, "tdoffice"), max_in_flight=2)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await body(store, worker)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)


async def test_idle_worker_sleeps_and_a_woken_one_delivers_at_once(tmp_path: Path) -> None:
    async with TdofficeSim(api_key="home") as home:

        async def body(store: CountingStore, worker: DeliveryWorker) -> None:
            await asyncio.sleep(0.5)  # the probe of an unknown sink, then asleep
            looks_before = store.looks
            await asyncio.sleep(3.0)
            assert store.looks == looks_before, "no look at the outbox while idle"
            await _enqueue(store, 1)
            enqueued = time.monotonic()
            worker.wake.set()  # what the processor's on_enqueued does
            await wait_until(lambda: home.calls("POST", CREATE), timeout_s=5, what="create")
            assert time.monotonic() - enqueued < 0.5, "delivered within moments of the wake-up"

        await _run(tmp_path, home, body)


async def test_a_retry_goes_at_its_due_time_unwoken(tmp_path: Path) -> None:
    """The first try fails (the home system is down): the worker sleeps until the retry the
    store holds is due (or the sink's breaker closes, whichever is later) and delivers then,
    with a handful of looks, not one a second."""
    async with TdofficeSim(api_key="home") as home:
        home.faults.down = True

        async def body(store: CountingStore, worker: DeliveryWorker) -> None:
            await _enqueue(store, 2)
            worker.wake.set()

            async def retry_scheduled() -> list[Any]:
                return list(
                    await store.db.execute_fetchall(
                        "SELECT next_attempt_at FROM outbox WHERE attempts = 1"
                    )
                )

            await wait_until(retry_scheduled, timeout_s=5, what="first try failed")
            # due at its own backoff, or when the sink's breaker lets a call through if later
            due_at = max(float((await retry_scheduled())[0][0]), worker._open_until)
            home.faults.down = False
            looks = store.looks

            async def delivered() -> bool:
                return await _states(store) == [DeliveryState.DELIVERED]

            await wait_until(delivered, timeout_s=30, what="the retry delivered")
            late = time.time() - due_at
            assert -0.1 <= late < 1.0, f"delivered {late:.2f} s after its due time"
            assert store.looks - looks <= 6, "woken by the due time, not by a poll each second"

        await _run(tmp_path, home, body)
