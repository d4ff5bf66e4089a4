"""The status poller against the tdoffice simulator: every unfinished document is asked about
in turn, a few per poll, and a finished one is not asked about again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from adapters.tdoffice.settings import TdofficeSinkSettings
from adapters.tdoffice.sink import TdofficeSink
from bridge.blobs import BlobStore
from bridge.errors import TransientError
from bridge.interfaces import AdapterContext
from bridge.status_messages import StatusPoller
from bridge.store import SqliteStore
from simulators.tdoffice import TdofficeSim
from tests.store.conftest import document, new_document_outcome, raw

UNIT = "000.15.33.H49"


async def _delivered(store: SqliteStore, count: int) -> list[str]:
    """`count` documents delivered to "home" as R-0, R-1, …; their remote ids."""
    ids = await store.save_records([raw(str(i)) for i in range(count)])
    for i, rid in enumerate(ids):
        await store.apply(new_document_outcome(rid, document(str(i)), triple=f"t{i}"))
        (d,) = await store.due_deliveries("home", 1)
        await store.mark_delivered(d.id, f"R-{i}")
    return [f"R-{i}" for i in range(count)]


def _asked(sim: TdofficeSim) -> list[str]:
    return [r.path.split("/")[-2] for r in sim.calls("GET", "/api/v2/documents/")]


async def test_every_unfinished_document_is_asked_in_turn(tmp_path: Path) -> None:
    sim = TdofficeSim(seed=5)
    await sim.start()
    try:
        settings = TdofficeSinkSettings.model_validate(
            {"name": "home", "profile": "tdoffice", "base_url": sim.base_url + "/",
             "api_key": sim.api_key}
        )  # fmt: skip
        ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))
        async with (
            SqliteStore(tmp_path / "s.sqlite3") as store,
            TdofficeSink(settings, ctx) as sink,
        ):
            remote = await _delivered(store, 5)
            for r in remote:
                sim.set_status(r, "processing")
            clock = [time.time() + 61]  # a minute after delivery: each is due
            poller = StatusPoller(sink, store, interval_s=60, per_poll=2, now=lambda: clock[0])
            for _ in range(3):
                await poller.poll_once()
            assert _asked(sim) == remote  # two, two, then the last one
            sim.requests.clear()
            sim.set_status("R-3", "done")
            clock[0] += 61
            for _ in range(3):
                await poller.poll_once()  # the round starts again from the oldest
            assert _asked(sim) == remote  # R-3 answered "done" in this round
            sim.requests.clear()
            clock[0] += 61
            for _ in range(2):
                await poller.poll_once()
            assert _asked(sim) == ["R-0", "R-1", "R-2", "R-4"]  # finished: not asked again
            assert await store.is_done_at_home(4)  # R-3 is the fourth document
    finally:
        await sim.close()


async def test_a_poll_cut_short_by_a_down_home_system_is_asked_again(tmp_path: Path) -> None:
    """The home system goes down mid-round: the poll fails and the poller keeps its place, so
    the same documents are asked about once it is back (none is skipped)."""
    sim = TdofficeSim(seed=6)
    await sim.start()
    try:
        settings = TdofficeSinkSettings.model_validate(
            {"name": "home", "profile": "tdoffice", "base_url": sim.base_url + "/",
             "api_key": sim.api_key}
        )  # fmt: skip
        ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))
        async with (
            SqliteStore(tmp_path / "s.sqlite3") as store,
            TdofficeSink(settings, ctx) as sink,
        ):
            remote = await _delivered(store, 4)
            for r in remote:
                sim.set_status(r, "processing")
            clock = time.time() + 61
            poller = StatusPoller(sink, store, interval_s=60, per_poll=2, now=lambda: clock)
            await poller.poll_once()
            sim.faults.down = True
            with pytest.raises(TransientError):
                await poller.poll_once()
            sim.faults.down = False
            sim.requests.clear()
            await poller.poll_once()
            assert _asked(sim) == ["R-2", "R-3"]
    finally:
        await sim.close()
