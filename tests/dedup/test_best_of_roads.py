"""The best of every road, end to end through a real store, the Processor, the delivery worker
and the tdoffice simulator as the home system: documents written by several roads (some with
the organ code, some with a short name, some with text still in a legacy font) arrive in any
order, with restarts (the store closed and opened again) between arrivals and deliveries made
at random moments. The home holds each document once, and ends with its best fields."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.tdoffice.settings import TdofficeSinkSettings
from adapters.tdoffice.sink import TdofficeSink
from bridge.blobs import BlobStore
from bridge.delivery import DeliveryWorker
from bridge.health import Health
from bridge.interfaces import AdapterContext, Profile
from bridge.normalize.legacy import TCVN3_TABLE
from bridge.pipeline import Processor
from bridge.store import SqliteStore
from schemas import Document, Organ, RawRecord
from simulators.tdoffice import TdofficeSim

UNIT = "000.00.33.H49"
HOME = "vandon-home"
# (code, full name, the short name a road may carry instead)
ISSUERS = (
    ("000.00.31.H59", "Ủy ban nhân dân huyện Tiểu Cần", "UBND huyện Tiểu Cần"),
    ("000.00.05.H49", "Hội đồng nhân dân tỉnh Quảng Ninh", "HĐND tỉnh Quảng Ninh"),
)
WORDS = ("về", "việc", "triển", "khai", "nhiệm", "vụ", "năm", "kế", "hoạch", "đợt", "hai")
TO_TCVN3 = {letter: chr(byte) for byte, letter in TCVN3_TABLE.items()}


def tcvn3(text: str) -> str:
    """`text` typed with a TCVN3 font and read back as Latin-1 (lower case: TCVN3 has no
    capital toned letters)."""
    return "".join(TO_TCVN3.get(char, char) for char in text)


def _json_document(raw: RawRecord) -> Document:
    return Document.model_validate_json(raw.payload)


def _no_file(data: bytes, name: str) -> RawRecord:
    raise NotImplementedError


ROAD = Profile(name="road", to_document=_json_document, read_file=_no_file)


@dataclass(frozen=True)
class Road:
    """How one road writes one document."""

    with_code: bool
    short_name: bool
    legacy_subject: bool


@dataclass(frozen=True)
class Arrival:
    document: int  # index into the scenario's documents
    road: int
    restart_before: bool
    deliver_after: bool


def _written(index: int, subject: str, road: Road) -> Document:
    code, full, short = ISSUERS[index % len(ISSUERS)]
    return Document(
        issuer=Organ(
            code=code if road.with_code else None, name=short if road.short_name else full
        ),
        number=str(100 + index),
        notation="UBND-VP",
        issued_on=dt.date(2024, 3, 1 + index),
        subject=tcvn3(subject) if road.legacy_subject else subject,
    )


def _best(index: int, subject: str, roads: list[Road]) -> dict[str, object]:
    """The fields the home must end with: a code if any road had it, the full name if any road
    had it, the readable subject if any road had it."""
    code, full, short = ISSUERS[index % len(ISSUERS)]
    return {
        "issuer": {
            "organId": code if any(r.with_code for r in roads) else None,
            "organName": full if any(not r.short_name for r in roads) else short,
        },
        "subject": subject if any(not r.legacy_subject for r in roads) else tcvn3(subject),
    }


async def _run(
    subjects: list[str], roads: list[list[Road]], arrivals: list[Arrival], tmp: Path
) -> tuple[TdofficeSim, dict[int, dict[str, object]], int]:
    """Feed every arrival; return the home, the home's document per scenario document (by
    the store's document id) and how many documents the store holds."""
    home = TdofficeSim(seed=1)
    async with home:
        settings = TdofficeSinkSettings.model_validate(
            {
                "name": HOME,
                "profile": "tdoffice",
                "base_url": home.base_url,
                "api_key": home.api_key,
            }
        )
        ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(tmp / "blobs"))
        store = await SqliteStore(tmp / "store.sqlite3").open()
        try:
            async with TdofficeSink(settings, ctx) as sink:
                for n, arrival in enumerate(arrivals):
                    if arrival.restart_before:
                        await store.close()
                        store = await SqliteStore(tmp / "store.sqlite3").open()
                    road = roads[arrival.document][arrival.road]
                    doc = _written(arrival.document, subjects[arrival.document], road)
                    await _arrive(store, doc, f"road-{arrival.road}", n)
                    if arrival.deliver_after:
                        await _deliver(store, sink)
                await store.close()
                store = await SqliteStore(tmp / "store.sqlite3").open()
                await _deliver(store, sink)
            remote: dict[int, dict[str, object]] = {}
            for document_id in range(1, 100):
                remote_id = await store.remote_id(document_id, UNIT, HOME)
                if remote_id is not None:
                    remote[document_id] = home.received[remote_id]
            count = (await store.counts())["documents"]
        finally:
            await store.close()
    return home, remote, count


async def _arrive(store: SqliteStore, doc: Document, source: str, n: int) -> None:
    raw = RawRecord(
        source=source,
        unit=UNIT,
        external_id=f"{source}-{doc.number}",
        version="1",
        media_type="application/json",
        payload=doc.model_dump_json().encode(),
        received_at=dt.datetime(2024, 3, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
    )
    await store.save_records([raw])
    processor = Processor(store, {"road": ROAD}, lambda name: "road", lambda unit: [HOME])
    await processor.process_pending()


async def _deliver(store: SqliteStore, sink: TdofficeSink) -> None:
    worker = DeliveryWorker(sink, store, Health(HOME, "tdoffice"))
    for _ in range(20):
        due = await store.due_deliveries(HOME, 50)
        if not due:
            return
        for delivery in due:  # one at a time: a correction waits for its create
            await worker.deliver(delivery)
    raise AssertionError("deliveries did not drain")


ROADS = st.builds(Road, st.booleans(), st.booleans(), st.booleans())


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[str], list[list[Road]], list[Arrival]]:
    documents = draw(st.integers(min_value=1, max_value=2))
    subjects = [
        " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=3, max_size=6)))
        for _ in range(documents)
    ]
    roads = [draw(st.lists(ROADS, min_size=2, max_size=4)) for _ in range(documents)]
    order = draw(st.permutations([(d, r) for d in range(documents) for r in range(len(roads[d]))]))
    arrivals = [Arrival(d, r, draw(st.booleans()), draw(st.booleans())) for d, r in order]
    return subjects, roads, arrivals


@settings(max_examples=25, deadline=None)
@given(scenarios())
def test_the_home_holds_each_document_once_with_the_best_of_every_road(
    scenario: tuple[list[str], list[list[Road]], list[Arrival]],
) -> None:
    """Any arrival order, restarts between arrivals, deliveries at any moment: one document at
    home per document written, and its fields are the best any road brought."""
    subjects, roads, arrivals = scenario
    with tempfile.TemporaryDirectory() as tmp:
        home, remote, count = asyncio.run(_run(subjects, roads, arrivals, Path(tmp)))
    assert count == len(subjects)
    assert len(home.received) == len(subjects)  # no duplicate at home
    by_number = {str(body["codeNumber"]): body for body in remote.values()}
    for index, subject in enumerate(subjects):
        body = by_number[str(100 + index)]
        expected = _best(index, subject, roads[index])
        assert {"issuer": body["issuer"], "subject": body["subject"]} == expected
        assert body["version"] == 1  # a correction is no new revision
