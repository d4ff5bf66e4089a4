"""Records held for review, merged documents and the two backends' public surface, on both."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from bridge.store import Outcome, PostgresStore, SqliteStore
from schemas import Provenance
from tests.store.conftest import NOW, Store, attachment, document, new_document_outcome, raw

PDF = b"%PDF-1.7 held"
SQLITE_ONLY = {"db", "path", "writer", "scanner"}
POSTGRES_ONLY = {"pool", "url", "instance", "claim_ttl_s"}


def _provenance(external_id: str) -> dict[str, object]:
    return Provenance(
        source="mail",
        profile="mailbox",
        unit="u2",
        external_id=external_id,
        version="1",
        received_at=NOW,
    ).model_dump(mode="json")


async def _hold(store: Store, external_id: str, decision: Mapping[str, object], kind: str) -> int:
    (rid,) = await store.save_records([raw(external_id, source="mail", unit="u2")])
    await store.apply(
        Outcome(
            record_id=rid,
            outcome="quarantined",
            decision=dict(decision),
            quarantine=(kind, "cần xem xét / needs review"),
        )
    )
    return rid


async def _held_mail(store: Store) -> tuple[int, str]:
    sha = attachment(PDF).sha256
    why = {"rule": "review", "attachments": [sha], "provenance": _provenance("m-1")}
    return await _hold(store, "m-1", why, "review"), sha


async def test_held_for_review_lists_review_holds_that_name_files(store: Store) -> None:
    """Only open 'review' holds whose decision names files and a provenance are listed."""
    rid, sha = await _held_mail(store)
    await _hold(store, "m-2", {"rule": "review"}, "review")  # names no files
    await _hold(store, "m-3", {"attachments": [sha], "provenance": "x"}, "review")
    await _hold(store, "m-4", {"attachments": [sha], "provenance": _provenance("m-4")}, "secret")
    assert await store.held_for_review() == [(rid, "u2", [sha], _provenance("m-1"))]


async def test_released_hold_is_no_longer_held(store: Store) -> None:
    """An operator's release takes the record off the held list."""
    await _held_mail(store)
    (item,) = await store.quarantined()
    assert await store.release_quarantined(item["id"], "op", release=True)
    assert await store.held_for_review() == []


async def test_merge_held_joins_the_document_and_enqueues_its_unit(store: Store) -> None:
    """The held record becomes a duplicate of the document, leaves quarantine, the document
    gains its provenance and the record's unit's sink gets a create; a second call does nothing."""
    rid, _ = await _held_mail(store)
    (first,) = await store.save_records([raw("a")])
    doc = document(attachments=(attachment(PDF),))
    doc_id = await store.apply(new_document_outcome(first, doc))
    assert doc_id is not None
    merged = doc.model_copy(update={"provenance": (Provenance.model_validate(_provenance("m-1")),)})
    why = {"rule": "held_merged", "candidate": doc_id}
    creates = (("u2", "home2", "create", 1),)
    assert await store.merge_held(rid, doc_id, merged, why, creates)
    record = await store.record(rid)
    assert record is not None
    assert (record.outcome, record.document_id, record.decision) == ("duplicate", doc_id, why)
    assert await store.quarantined() == [] and await store.held_for_review() == []
    row = await store.document(doc_id)
    assert row is not None and row.document == merged
    assert sorted((d.unit, d.sink, d.op) for d in await store.deliveries_of(doc_id)) == [
        ("u1", "home", "create"),
        ("u2", "home2", "create"),
    ]
    assert not await store.merge_held(rid, doc_id, merged, why, (("u2", "x", "create", 1),))
    assert len(await store.deliveries_of(doc_id)) == 2


async def test_merge_held_refuses_a_record_not_held(store: Store) -> None:
    """A record that is not held for review is left alone (False, nothing written)."""
    (rid,) = await store.save_records([raw("a")])
    doc_id = await store.apply(new_document_outcome(rid, document()))
    assert doc_id is not None
    (other,) = await store.save_records([raw("b")])
    assert not await store.merge_held(other, doc_id, document(), {}, (("u1", "k", "create", 1),))
    record = await store.record(other)
    assert record is not None and record.outcome is None
    assert len(await store.deliveries_of(doc_id)) == 1


async def test_documents_by_attachment_skips_merged_documents(store: Store) -> None:
    """After an operator merges two documents sharing a file, only the kept one is found."""
    ids = await store.save_records([raw("a"), raw("b")])
    doc = document(attachments=(attachment(PDF),))
    keep = await store.apply(new_document_outcome(ids[0], doc))
    other = await store.apply(new_document_outcome(ids[1], doc, triple="h55|336|2024"))
    assert keep is not None and other is not None
    sha = doc.attachments[0].sha256
    assert [d.id for d in await store.documents_by_attachment([sha])] == [keep, other]
    assert await store.merge_documents(keep, other, "op")
    assert [d.id for d in await store.documents_by_attachment([sha])] == [keep]


def _public(cls: type) -> set[str]:
    return {
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def test_postgres_store_has_every_public_method_of_sqlite_store() -> None:
    """Every public method of SqliteStore exists on PostgresStore (and the other way round),
    apart from each backend's own plumbing, with the same parameters."""
    sqlite, postgres = _public(SqliteStore) - SQLITE_ONLY, _public(PostgresStore) - POSTGRES_ONLY
    assert sorted(sqlite - postgres) == []
    assert sorted(postgres - sqlite) == []
    for name in sqlite:
        ours, theirs = getattr(SqliteStore, name), getattr(PostgresStore, name)
        if callable(ours):
            assert list(inspect.signature(ours).parameters) == list(
                inspect.signature(theirs).parameters
            ), name
