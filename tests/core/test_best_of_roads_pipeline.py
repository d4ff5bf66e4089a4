"""The processor keeps the best of every road on a real store: duplicates teach, revisions keep
the best issuer, and a correction is queued only for sinks that hold the document."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bridge.interfaces import Profile
from bridge.pipeline import Processor
from bridge.store import SqliteStore
from schemas import Document, Organ, RawRecord

UNIT = "000.00.33.H49"
CODE = "000.00.31.H59"
NAME = "Ủy ban nhân dân huyện Tiểu Cần"


def _json_document(raw: RawRecord) -> Document:
    return Document.model_validate_json(raw.payload)


def _no_file(data: bytes, name: str) -> RawRecord:
    raise NotImplementedError


ROAD = Profile(name="road", to_document=_json_document, read_file=_no_file)


def _doc(code: str | None, revision: int = 1, subject: str = "Về việc họp") -> Document:
    return Document(
        issuer=Organ(code=code, name=NAME),
        number="12",
        notation="UBND-VP",
        issued_on=dt.date(2024, 3, 5),
        subject=subject,
        revision=revision,
    )


async def _arrive(store: SqliteStore, doc: Document, source: str) -> None:
    raw = RawRecord(
        source=source,
        unit=UNIT,
        external_id=f"{source}-{doc.revision}",
        version=str(doc.revision),
        media_type="application/json",
        payload=doc.model_dump_json().encode(),
        received_at=dt.datetime(2024, 3, 6, tzinfo=dt.UTC),
    )
    await store.save_records([raw])
    await Processor(store, {"road": ROAD}, lambda s: "road", lambda u: ["home"]).process_pending()


async def _deliver_all(store: SqliteStore) -> None:
    for delivery in await store.due_deliveries("home", 10):
        await store.mark_delivered(delivery.id, "R-1")


async def test_a_revision_without_the_code_keeps_it_and_corrects_nothing(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "s.sqlite3") as store:
        await _arrive(store, _doc(CODE), "vxp")
        await _deliver_all(store)
        await _arrive(store, _doc(None, revision=2, subject="Về việc họp (sửa)"), "mail")
        row = await store.document(1)
        assert row is not None and row.revision == 2
        assert row.document.issuer == Organ(code=CODE, name=NAME)
        assert row.document.subject == "Về việc họp (sửa)"
        ops = [(d.op, d.revision) for d in await store.deliveries_of(1)]
    assert ops == [("create", 1), ("update", 2)]


async def test_a_revision_that_brings_the_code_queues_a_correction(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "s.sqlite3") as store:
        await _arrive(store, _doc(None), "mail")
        await _deliver_all(store)
        await _arrive(store, _doc(CODE, revision=2), "vxp")
        row = await store.document(1)
        assert row is not None and row.document.issuer.code == CODE
        deliveries = await store.deliveries_of(1)
        (record,) = [r for r in await store.records_of(1) if r.raw.source == "vxp"]
    assert [(d.op, d.revision) for d in deliveries] == [
        ("create", 1),
        ("update", 2),
        ("correct", 1),
    ]
    assert deliveries[-1].note is not None and "vxp" in deliveries[-1].note
    assert record.decision is not None
    assert record.decision["corrected"] == [{"field": "issuer.code", "value": CODE, "road": "vxp"}]


async def test_a_duplicate_teaching_nothing_queues_nothing(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "s.sqlite3") as store:
        await _arrive(store, _doc(CODE), "vxp")
        await _deliver_all(store)
        await _arrive(store, _doc(None), "mail")
        ops = [d.op for d in await store.deliveries_of(1)]
        (record,) = [r for r in await store.records_of(1) if r.raw.source == "mail"]
    assert ops == ["create"]
    assert record.decision is not None and "corrected" not in record.decision
