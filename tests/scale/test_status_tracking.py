"""Status tracking that scales, against the tdoffice simulator: documents asked about by
age (recent often, old rarely, done never), every sink of one home system sharing one rate,
and a home system that pushes its status never asked."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from contextlib import AsyncExitStack
from pathlib import Path

from adapters.tdoffice.settings import TdofficeSinkSettings
from adapters.tdoffice.sink import TdofficeSink
from bridge.blobs import BlobStore
from bridge.interfaces import AdapterContext
from bridge.status_messages import StatusPoller
from bridge.store import SqliteStore
from bridge.waiting import Pacer
from simulators.tdoffice import TdofficeSim
from tests.store.conftest import document, new_document_outcome, raw

UNIT = "000.15.33.H49"
STATUS = "/api/v2/documents/"


async def _delivered(store: SqliteStore, sink: str, count: int, tag: str) -> list[str]:
    """`count` documents delivered to `sink`; their remote ids."""
    ids = await store.save_records([raw(f"{tag}-{i}") for i in range(count)])
    out = []
    for i, rid in enumerate(ids):
        doc = document(f"{tag}{i}", f"Về việc {tag} {i}")
        await store.apply(
            new_document_outcome(
                rid, doc, triple=f"{tag}|{i}", deliveries=(("u1", sink, "create", 1),)
            )
        )
        (d,) = await store.due_deliveries(sink, 1)
        await store.mark_delivered(d.id, f"{tag}-R-{i}")
        out.append(f"{tag}-R-{i}")
    return out


def _asked(sim: TdofficeSim) -> list[str]:
    return sorted(r.path.split("/")[-2] for r in sim.calls("GET", STATUS))


def _sink(sim: TdofficeSim, name: str, tmp_path: Path) -> TdofficeSink:
    settings = TdofficeSinkSettings(
        name=name, profile="tdoffice", base_url=sim.base_url, api_key=sim.api_key
    )
    return TdofficeSink(settings, AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "b")))


async def test_recent_documents_often_old_ones_rarely_done_ones_never(tmp_path: Path) -> None:
    async with (
        TdofficeSim(seed=3) as sim,
        SqliteStore(tmp_path / "s.sqlite3") as store,
        _sink(sim, "home", tmp_path) as sink,
    ):
        fresh, day, week, done = await _delivered(store, "home", 4, "d")
        now = time.time()
        ages = {fresh: 600, day: 5 * 3600, week: 3 * 86_400, done: 600}
        async with store._tx() as conn:  # delivered that long ago
            for remote, age in ages.items():
                at = dt.datetime.fromtimestamp(now - age, dt.UTC).isoformat()
                await conn.execute(
                    "UPDATE outbox SET done_at = $1 WHERE remote_id = $2", (at, remote)
                )
                sim.set_status(remote, "processing")
        sim.set_status(done, "done")
        clock = [now]
        poller = StatusPoller(sink, store, interval_s=60, now=lambda: clock[0])

        async def asked_after(seconds: float) -> list[str]:
            sim.requests.clear()
            clock[0] = now + seconds
            await poller.poll_once()
            return _asked(sim)

        assert await asked_after(0) == sorted(ages), "each asked once at first"
        assert await asked_after(30) == [], "nothing within the interval"
        assert await asked_after(61) == [fresh], "a recent one every interval"
        assert await asked_after(122) == [fresh]
        assert await asked_after(901) == sorted([fresh, day]), "a day-old one every 15 min"
        assert await asked_after(3 * 3600 + 1) == sorted([fresh, day, week]), "3 h for older"
        assert done not in await asked_after(2 * 86_400), "a finished one never again"


async def test_every_sink_of_a_home_system_shares_its_rate(tmp_path: Path) -> None:
    """Three units' sinks on one home system, thirty documents due: the simulator never hears
    more than the rate in any second, and every document is asked about."""
    rate = 5.0
    pacer = Pacer(rate)
    async with AsyncExitStack() as stack:
        sim = await stack.enter_async_context(TdofficeSim(seed=4))
        store = await stack.enter_async_context(SqliteStore(tmp_path / "s.sqlite3"))
        pollers, remote = [], []
        later = time.time() + 61  # a minute after delivery: each document is due
        for n in range(3):
            name = f"home{n}"
            sink = await stack.enter_async_context(_sink(sim, name, tmp_path))
            remote += await _delivered(store, name, 10, f"u{n}")
            pollers.append(StatusPoller(sink, store, 60, pacer=pacer, now=lambda: later))
        for r in remote:
            sim.set_status(r, "processing")
        started = time.monotonic()
        await asyncio.gather(*(p.poll_once() for p in pollers))
        elapsed = time.monotonic() - started
    assert _asked(sim) == sorted(remote)
    assert sim.busiest_second("GET", STATUS) <= rate
    assert elapsed >= (len(remote) - 1) / rate * 0.95
