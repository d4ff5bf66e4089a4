"""A pushed document passes the backlog: the processor decides it before the records stored
earlier, the sink's worker starts its delivery before the due ones and gives it the next free
call slot (real store, real tdoffice simulator as the home system)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from adapters import registry
from adapters.tdoffice.settings import TdofficeSinkSettings
from bridge.blobs import BlobStore
from bridge.delivery import DeliveryWorker
from bridge.health import Health
from bridge.interfaces import AdapterContext, Profile
from bridge.pipeline import Processor
from bridge.store import SqliteStore
from bridge.waiting import PrioritySlots
from schemas import Document, Organ, RawRecord
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import wait_until
from tests.store.conftest import document, new_document_outcome, raw

UNIT = "000.00.33.H49"
CREATE = "/api/v2/documents/incoming"


async def test_a_first_waiter_gets_the_next_slot_before_earlier_ones() -> None:
    slots = PrioritySlots(1)
    order: list[str] = []
    release = asyncio.Event()

    async def holder(name: str, *, first: bool = False) -> None:
        async with slots.hold(first=first):
            order.append(name)
            await release.wait()

    busy = asyncio.create_task(holder("busy"))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(holder("bulk-1")), asyncio.create_task(holder("bulk-2"))]
    await asyncio.sleep(0)
    waiting.append(asyncio.create_task(holder("pushed", first=True)))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(busy, *waiting)
    assert order == ["busy", "pushed", "bulk-1", "bulk-2"]


async def test_a_waiter_cancelled_as_it_is_handed_a_slot_passes_it_on() -> None:
    slots = PrioritySlots(1)
    done: list[str] = []
    gate = asyncio.Event()

    async def holder(name: str) -> None:
        async with slots.hold():
            done.append(name)
            await gate.wait()

    first = asyncio.create_task(holder("a"))
    await asyncio.sleep(0)
    cancelled, last = asyncio.create_task(holder("b")), asyncio.create_task(holder("c"))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.sleep(0)  # "a" ends and hands its slot to "b" ...
    assert first.done() and not cancelled.done()
    cancelled.cancel()  # ... which is cancelled before it runs: "c" must still get a slot
    await asyncio.gather(cancelled, return_exceptions=True)
    await asyncio.wait_for(last, timeout=2)
    assert done == ["a", "c"]


def _json_document(record: RawRecord) -> Document:
    return Document.model_validate_json(record.payload)


def _no_file(data: bytes, name: str) -> RawRecord:
    raise NotImplementedError


async def test_a_pushed_record_is_decided_before_the_backlog(tmp_path: Path) -> None:
    mapped: list[str] = []

    def to_document(record: RawRecord) -> Document:
        mapped.append(record.external_id)
        return _json_document(record)

    road = Profile(name="road", to_document=to_document, read_file=_no_file)
    preferred: list[tuple[str, int]] = []

    def record(i: int) -> RawRecord:
        doc = Document(
            issuer=Organ(code="000.00.31.H59", name="Ủy ban nhân dân huyện Tiểu Cần"),
            number=str(100 + i),
            notation="UBND-VP",
            issued_on=dt.date(2024, 3, 5),
            subject=f"Về việc số {i}",
        )
        return RawRecord(
            source="road",
            unit=UNIT,
            external_id=f"r{i}",
            version="1",
            media_type="application/json",
            payload=doc.model_dump_json().encode(),
            received_at=dt.datetime(2024, 3, 6, tzinfo=dt.UTC),
        )

    async with SqliteStore(tmp_path / "s.sqlite3") as store:
        await store.save_records([record(i) for i in range(60)])
        processor = Processor(
            store,
            {"road": road},
            lambda s: "road",
            lambda u: ["home"],
            on_preferred=preferred.extend,
        )
        (pushed,) = await store.save_records([record(60)])
        assert await store.undecided_ids([record(60), record(3)]) == [pushed, 4]
        processor.urgent([pushed])
        assert await processor.process_pending() == 60
        first = await store.due_deliveries("home", 1)
    assert mapped[0] == "r60" and sorted(mapped[1:]) == sorted(f"r{i}" for i in range(60))
    assert len(mapped) == 61  # the pushed record was not decided twice
    assert preferred == [("home", first[0].document_id)]


async def test_a_preferred_document_is_delivered_before_the_due_ones(tmp_path: Path) -> None:
    async with TdofficeSim(api_key="home") as home:
        settings = TdofficeSinkSettings(
            name="home", profile="tdoffice", base_url=home.base_url, api_key=home.api_key
        )
        ctx = AdapterContext(units=("u1",), blobs=BlobStore(tmp_path / "blobs"))
        make_sink = registry()["tdoffice"].make_sink
        assert make_sink is not None
        async with (
            SqliteStore(tmp_path / "lienthong.sqlite3") as store,
            make_sink(settings, ctx) as sink,
        ):
            documents = []
            for i in range(30):
                (rid,) = await store.save_records([raw(f"doc-{i}")])
                doc = document(number=str(100 + i), subject=f"Về việc số {i}")
                documents.append(
                    await store.apply(new_document_outcome(rid, doc, triple=f"h55|{100 + i}|2024"))
                )
            worker = DeliveryWorker(sink, store, Health("home", "tdoffice"), max_in_flight=1)
            last = documents[-1]
            assert last is not None
            worker.prefer(last)
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            try:
                await wait_until(lambda: len(home.received) == 30, timeout_s=30)
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=10)
    numbers = [body["codeNumber"] for body in home.received.values()]
    assert numbers.index("129") < 2, numbers  # not thirtieth
