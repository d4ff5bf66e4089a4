"""migrate_store copies a populated SQLite deployment into PostgreSQL faithfully."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bridge.blobs import BlobStore
from bridge.errors import ConfigError
from bridge.store import Outcome, PgBlobStore, PostgresStore, SqliteStore, StatusReply
from bridge.store.migrate import migrate_store
from schemas import Page, StatusEvent
from schemas.record import RemoteStatus
from tests.store.conftest import attachment, document, new_document_outcome, raw

Store = SqliteStore | PostgresStore


async def _populate(store: SqliteStore, blobs: BlobStore) -> None:
    """A bit of everything: records, documents, revisions, conflicts, outbox, status, audit."""
    pdf = b"%PDF-1.7 " * 1000
    await blobs.put_bytes(pdf, max_bytes=10**6)
    await store.save_page(
        "src", Page(records=(raw("a", attachments=(attachment(pdf),)),), cursor="c9")
    )
    b, c, d, e = await store.save_records(
        [raw("a", "2"), raw("b", source="vxp"), raw("c"), raw("d", payload=b"\x00\xff")]
    )
    doc_id = await store.apply(new_document_outcome(1, document(attachments=(attachment(pdf),))))
    await store.mark_acked("src", "u1", "a", "1")
    revision = Outcome(
        record_id=b,
        outcome="revision",
        decision={"rule": "version"},
        document_id=doc_id,
        updated_document=document(revision=2, subject="Sửa đổi"),
        deliveries=(("u1", "home", "update", 2),),
    )
    await store.apply(revision)
    reply = StatusReply("01", "đã nhận", "u1", {"code": "H55"}, {"number": "335"})
    dup = Outcome(
        record_id=c,
        outcome="duplicate",
        decision={},
        document_id=doc_id,
        conflict={"field": "subject"},
        status_replies=(reply,),
    )
    await store.apply(dup)
    await store.apply(
        Outcome(record_id=d, outcome="quarantined", decision={}, quarantine=("bad", "x"))
    )
    (create,) = await store.due_deliveries("home", 5)
    await store.store_body(create.id, {"so": "335"})
    await store.mark_delivered(create.id, "R-1")
    (update,) = await store.due_deliveries("home", 5)
    await store.mark_dead(update.id, "422")
    await store.replay(update.id, actor="op")
    await store.mark_dead(update.id, "422 again")
    at = dt.datetime(2024, 3, 6, tzinfo=dt.UTC)
    await store.save_status_events(
        [StatusEvent(sink="home", remote_id="R-1", status=RemoteStatus.RECEIVED, updated_at=at)]
    )
    await store.remember_event("tdoffice", "ev-1")
    assert e > d


async def _snapshot(store: Store) -> dict[str, object]:
    records = [await store.record(i) for i in range(1, 6)]
    return {
        "counts": await store.counts(),
        "records": records,
        "cursor": await store.get_cursor("src"),
        "document": dataclasses.asdict(await store.document(1)),  # type: ignore[arg-type]
        "deliveries": await store.deliveries_of(1),
        "revisions": await store.revisions_of(1),
        "quarantined": await store.quarantined(),
        "dead": await store.dead_letters(),
        "statuses": await store.statuses_of(1),
        "unacked": await store.unacked("src"),
        "waiting": await store.waiting(),
    }


async def test_migrate_store_copies_everything(tmp_path: Path, pg_url: str) -> None:
    """Every row (same ids) and every blob arrive; the sequences continue after the copied ids."""
    data = tmp_path / "data"
    src_path = data / "lienthong.sqlite3"
    async with SqliteStore(src_path) as src:
        await _populate(src, BlobStore(data / "blobs"))
        before = await _snapshot(src)
    copied = await migrate_store(f"sqlite:{src_path}", pg_url)
    assert copied["records"] == 5 and copied["outbox"] == 2 and copied["blobs"] == 1
    assert copied["audit"] == 1 and copied["status_out"] == 2 and copied["hook_events"] == 1
    async with PostgresStore(pg_url) as dst:
        assert await _snapshot(dst) == before
        assert not await dst.remember_event("tdoffice", "ev-1")
        (new_id,) = await dst.save_records([raw("z")])
        assert new_id == 6
        first = await dst.record(1)
        assert first is not None
        sha = first.raw.attachments[0].sha256
        assert [d.id for d in await dst.documents_by_attachment([sha])] == [1]
        pdf = b"".join([c async for c in PgBlobStore(dst).read(sha)])
        assert pdf == b"%PDF-1.7 " * 1000


async def test_migrate_store_refuses_a_non_empty_target(tmp_path: Path, pg_url: str) -> None:
    """A second run onto the filled target is refused and changes nothing."""
    src_path = tmp_path / "lienthong.sqlite3"
    async with SqliteStore(src_path) as src:
        await src.save_records([raw("a")])
    await migrate_store(f"sqlite:{src_path}", pg_url)
    with pytest.raises(ConfigError, match="target is not empty"):
        await migrate_store(f"sqlite:{src_path}", pg_url)
    async with PostgresStore(pg_url) as dst:
        assert (await dst.counts())["per_source"] == {"src": 1}


async def test_migrate_store_rejects_bad_urls(tmp_path: Path, pg_url: str) -> None:
    """A missing SQLite file or a non-PostgreSQL target is a ConfigError."""
    with pytest.raises(ConfigError, match="no such file"):
        await migrate_store(f"sqlite:{tmp_path / 'missing.sqlite3'}", pg_url)
    with pytest.raises(ConfigError, match="expected sqlite:PATH"):
        await migrate_store("mysql://x", pg_url)
    src_path = tmp_path / "s.sqlite3"
    async with SqliteStore(src_path):
        pass
    with pytest.raises(ConfigError, match="PostgreSQL URL"):
        await migrate_store(f"sqlite:{src_path}", "sqlite:other")
