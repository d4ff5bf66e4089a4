"""The whole labelled corpus through a real store and the real Processor: the grouping a
records clerk expects (one document per truth_id, no false merges, holds, revisions)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from adapters import registry
from bridge.blobs import BlobStore
from bridge.pipeline import Processor
from bridge.store import DocumentRow, SqliteStore, StoredRecord
from tests.dedup.corpus_feed import Labelled, labelled_records

pytestmark = pytest.mark.asyncio(loop_scope="module")
SINK = {"000.00.33.H49": "vandon-home", "000.15.33.H49": "xabinhdan-home"}


@dataclass
class Run:
    """The corpus after processing: each labelled record with its stored outcome."""

    store: SqliteStore
    records: list[tuple[Labelled, StoredRecord]]
    quarantine: dict[int, str]

    def of(self, **labels: object) -> list[tuple[Labelled, StoredRecord]]:
        return [
            (lab, rec)
            for lab, rec in self.records
            if all(lab.truth.get(k) == v for k, v in labels.items())
        ]

    async def document(self, rec: StoredRecord) -> DocumentRow:
        assert rec.document_id is not None, (rec.raw.source, rec.outcome, rec.decision)
        row = await self.store.document(rec.document_id)
        assert row is not None
        return row


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    """The corpus processed once for the module's tests (they only read the outcome)."""
    tmp_path = tmp_path_factory.mktemp("corpus")
    blobs = BlobStore(tmp_path / "blobs")
    labelled = await labelled_records(blobs)
    profile_of = {lab.raw.source: lab.truth["profile"] for lab in labelled}
    async with SqliteStore(tmp_path / "store.sqlite3") as store:
        processor = Processor(
            store,
            registry(),
            profile_of.get,
            lambda unit: [SINK[unit]] if unit in SINK else [],
            blobs=blobs,
        )
        ids = []
        for lab in labelled:  # one arrival at a time, in `modified` order
            (record_id,) = await store.save_records([lab.raw])
            ids.append(record_id)
            await processor.process_pending()
        stored = [await store.record(i) for i in ids]
        held = {q["record_id"]: q["kind"] for q in await store.quarantined(limit=1000)}
        yield Run(
            store, [(lab, rec) for lab, rec in zip(labelled, stored, strict=True) if rec], held
        )


async def test_every_corpus_record_is_processed(run: Run) -> None:
    """All 106 records of every profile are stored and get an outcome."""
    assert len(run.records) == 106
    assert {lab.truth["profile"] for lab, _ in run.records} == {
        "moffice",
        "tdoffice",
        "voffice",
        "idesk",
        "vxp",
        "mailbox",
        "folder",
    }
    assert all(rec.outcome is not None for _, rec in run.records)


async def test_one_truth_id_is_one_document(run: Run) -> None:
    """Records labelled with one truth_id (secret ones aside) end in one document."""
    docs: dict[str, set[int | None]] = defaultdict(set)
    for lab, rec in run.records:
        if lab.truth["truth_id"] and lab.truth["kind"] != "secret":
            docs[lab.truth["truth_id"]].add(rec.document_id)
    split = {t: d for t, d in docs.items() if len(d) != 1 or None in d}
    assert split == {}


async def test_different_truth_ids_never_share_a_document(run: Run) -> None:
    """No false merge: other-year, other-issuer, same-name, recurring and copy stay apart."""
    truths: dict[int, set[str]] = defaultdict(set)
    for lab, rec in run.records:
        if rec.document_id is not None:
            truths[rec.document_id].add(lab.truth["truth_id"])
    assert {d: t for d, t in truths.items() if len(t) > 1} == {}
    for note in ("other-year", "other-issuer", "same-name", "recurring", "copy"):
        ids = {lab.truth["truth_id"] for lab, _ in run.of(note=note)}
        docs = {rec.document_id for _, rec in run.of(note=note)}
        assert len(ids) >= 2 and len(docs) == len(ids), note


async def test_documents_count_matches_the_labels(run: Run) -> None:
    """The store holds exactly one document per distinct readable, non-secret truth_id."""
    expected = {
        lab.truth["truth_id"] for lab, _ in run.records if lab.truth["kind"] in ("doc", "update")
    }
    assert (await run.store.counts())["documents"] == len(expected)


async def test_bad_records_are_quarantined_unreadable(run: Run) -> None:
    """Every `bad` record (missing field, bad date, wrong type, broken or hostile XML/JSON)."""
    bad = run.of(kind="bad")
    assert len(bad) == 8
    for lab, rec in bad:
        assert rec.outcome == "quarantined" and rec.document_id is None, lab.truth["note"]
        assert run.quarantine[rec.id] == "unreadable", lab.truth["note"]


async def test_secret_records_are_quarantined_secret(run: Run) -> None:
    """A secret document is kept aside as secret, never becomes a document to deliver."""
    secret = run.of(kind="secret")
    assert secret
    for _, rec in secret:
        assert rec.outcome == "quarantined" and run.quarantine[rec.id] == "secret"
        assert rec.decision is not None and rec.decision["rule"] == "secret"


async def test_updates_become_revisions_with_the_labelled_number(run: Run) -> None:
    """edXML updates are revisions of their document, numbered as labelled."""
    updates = run.of(kind="update")
    assert len(updates) == 2
    for lab, rec in updates:
        assert rec.outcome == "revision", rec.decision
        row = await run.document(rec)
        assert row.revision == lab.truth["revision"] == 2
        revisions = await run.store.revisions_of(row.id)
        assert [r["revision"] for r in revisions] == [1, 2]
        assert row.document.subject == lab.truth["subject"]


async def test_revocation_revokes_its_document(run: Run) -> None:
    """The tdoffice revocation revokes the document its earlier version created."""
    ((lab, rec),) = run.of(kind="revoke")
    assert rec.outcome == "revision" and rec.decision is not None
    assert rec.decision["rule"] == "revocation"
    row = await run.document(rec)
    assert row.state == "revoked" and row.revision == 1
    (first,) = [r for la, r in run.of(truth_id=lab.truth["truth_id"], kind="doc")]
    assert first.document_id == row.id


async def test_no_number_mail_is_held_then_merged_by_its_files(run: Run) -> None:
    """The mail naming no number is held for review, then joins its document by SHA-256."""
    ((lab, rec),) = run.of(note="no-number")
    assert rec.outcome == "duplicate" and rec.id not in run.quarantine
    assert rec.decision is not None and rec.decision["rule"] == "held_merged"
    assert rec.decision["attachments"] == [a["sha256"] for a in lab.truth["attachments"]]
    row = await run.document(rec)
    others = [r.document_id for la, r in run.of(truth_id=lab.truth["truth_id"]) if r is not rec]
    assert set(others) == {row.id}
    assert rec.raw.source in {p.source for p in row.document.provenance}
    creates = [(d.unit, d.op) for d in await run.store.deliveries_of(row.id)]
    assert creates.count((lab.truth["unit"], "create")) == 1


async def test_conflicting_roads_stay_one_document_with_the_disagreement(run: Run) -> None:
    """A dissenting road joins its document; its disagreement is recorded in `conflicts`."""
    dissent = [(lab, rec) for lab, rec in run.of(note="conflict") if lab.truth["dissent"]]
    assert len(dissent) == 2
    for _, rec in dissent:
        assert rec.outcome == "duplicate", rec.decision
        row = await run.document(rec)
        (conflict,) = [c for c in row.conflicts if c["record_id"] == rec.id]
        assert conflict["fields"] == ["subject"]
        assert rec.decision is not None and rec.decision["differed"] == ["subject"]
    agreeing = [rec for lab, rec in run.of(note="conflict") if not lab.truth["dissent"]]
    for rec in agreeing:
        row = await run.document(rec)
        assert all(c["record_id"] != rec.id for c in row.conflicts)


async def test_no_false_conflicts_outside_dissent(run: Run) -> None:
    """Roads that agree (formatting aside) record no disagreement."""
    flagged = {
        c["record_id"]
        for _, rec in run.records
        if rec.document_id is not None
        for c in (await run.document(rec)).conflicts
    }
    dissenting = {rec.id for lab, rec in run.records if lab.truth["dissent"]}
    assert flagged == dissenting


async def test_totals_add_up(run: Run) -> None:
    """received = documents + duplicates + revisions + quarantined, per the contract."""
    outcomes = (await run.store.counts())["outcomes"]
    held = sum(1 for lab, _ in run.records if lab.truth["kind"] in ("bad", "secret"))
    assert outcomes.get("quarantined", 0) == held
    assert sum(outcomes.values()) == 106
