"""Operator actions on both backends: quarantine release, split, merge, audit, monthly report."""

from __future__ import annotations

from bridge.store import Outcome
from tests.store.conftest import Store, attachment, document, new_document_outcome, raw


async def test_release_quarantined_requeues_and_marks_released(store: Store) -> None:
    """release=True vouches for the record; release=False is a plain retry; both audited."""
    a, b = await store.save_records([raw("a"), raw("b")])
    for rid in (a, b):
        q = Outcome(record_id=rid, outcome="quarantined", decision={}, quarantine=("secret", "mật"))
        await store.apply(q)
    qa, qb = sorted(await store.quarantined(), key=lambda q: q["record_id"])
    assert qa["unit"] == "u1"
    assert await store.release_quarantined(qa["id"], "op", release=True)
    assert await store.release_quarantined(qb["id"], "op", release=False)
    assert not await store.release_quarantined(qa["id"], "op", release=True)
    assert await store.is_released(a) and not await store.is_released(b)
    assert [r.id for r in await store.unprocessed()] == [a, b]
    assert await store.quarantined() == []
    trail = await store.audit_trail()
    assert [(t["action"], t["detail"]["record_id"]) for t in trail] == [
        ("retry", b),
        ("release", a),
    ]


async def test_split_record_detaches_with_an_override(store: Store) -> None:
    """A split record is unlinked, queued again, and remembered as "a document of its own"."""
    a, b = await store.save_records([raw("a"), raw("b", source="s2")])
    doc_id = await store.apply(new_document_outcome(a, document()))
    assert doc_id is not None
    await store.apply(Outcome(record_id=b, outcome="duplicate", decision={}, document_id=doc_id))
    assert not await store.split_record(doc_id, 999, "op")
    assert await store.split_record(doc_id, b, "op")
    assert [r.id for r in await store.records_of(doc_id)] == [a]
    assert [r.id for r in await store.unprocessed()] == [b]
    assert await store.override_for("s2|u1|b") == (True, None)
    assert await store.override_for("src|u1|a") == (False, None)


async def test_merge_documents_cancels_pending_and_hides_the_merged(store: Store) -> None:
    """Merging moves the records to the kept document and cancels the other's pending creates."""
    a, b = await store.save_records([raw("a"), raw("b", source="s2")])
    keep = await store.apply(new_document_outcome(a, document("1"), triple="t"))
    other = await store.apply(new_document_outcome(b, document("2"), triple="t"))
    assert keep is not None and other is not None
    assert not await store.merge_documents(keep, keep, "op")
    assert not await store.merge_documents(keep, 999, "op")
    assert await store.merge_documents(keep, other, "op")
    assert [d.id for d in await store.documents_by_triple("t")] == [keep]
    assert (await store.counts())["documents"] == 1
    (cancelled,) = await store.deliveries_of(other)
    assert cancelled.state == "cancelled"
    assert await store.override_for("s2|u1|b") == (True, keep)
    (entry,) = await store.audit_trail()
    assert entry["detail"] == {
        "merged": other,
        "records": [b],
        "cancelled": 1,
        "already_delivered": 0,
    }


async def test_documents_received_for_the_monthly_report(store: Store) -> None:
    """Documents by first arrival in [start, end), with every road and unit they came by."""
    a, b, c = await store.save_records([raw("a"), raw("b", source="s2", unit="u2"), raw("c")])
    doc_id = await store.apply(new_document_outcome(a, document()))
    await store.apply(Outcome(record_id=b, outcome="duplicate", decision={}, document_id=doc_id))
    await store.apply(new_document_outcome(c, document("9"), triple="t9"))
    (first, second) = await store.documents_received("2024-03-01", "2024-04-01", None)
    assert first["id"] == doc_id and first["roads"] == ["s2", "src"]
    assert first["units"] == ["u1", "u2"] and first["document"].number == "335"
    assert second["units"] == ["u1"]
    assert [r["id"] for r in await store.documents_received("2024-03-01", "2024-04-01", "u2")] == [
        doc_id
    ]
    assert await store.documents_received("2024-04-01", "2024-05-01", None) == []


async def test_purge_before_keeps_what_is_unfinished(store: Store) -> None:
    """Old, acknowledged, delivered work goes; pending deliveries, unacked and quarantine stay."""
    a, b, c, d = await store.save_records(
        [raw("a", attachments=(attachment(b"pdf"),)), raw("b"), raw("c"), raw("d")]
    )
    done = await store.apply(new_document_outcome(a, document("1"), triple="t1"))
    pending = await store.apply(new_document_outcome(b, document("2"), triple="t2"))
    q = Outcome(record_id=c, outcome="quarantined", decision={}, quarantine=("bad", "x"))
    await store.apply(q)
    await store.apply(Outcome(record_id=d, outcome="waiting", decision={}))
    for ext in "abcd":
        await store.mark_acked("src", "u1", ext, "1")
    first = (await store.due_deliveries("home", 10))[0]
    await store.mark_delivered(first.id, "R1")
    await store.remember_event("hook", "old")
    sha = attachment(b"pdf").sha256
    assert await store.blob_in_use(sha)
    counts = await store.purge_before("9999-01-01", "9999-01-01")
    assert counts == {"documents": 1, "records": 1, "hook_events": 1}
    assert await store.document(done or 0) is None and await store.document(pending or 0)
    assert await store.record(a) is None
    assert [r.id for r in await store.waiting()] == [d]
    assert [q["record_id"] for q in await store.quarantined()] == [c]
    assert not await store.blob_in_use(sha)
    assert await store.remember_event("hook", "old")
