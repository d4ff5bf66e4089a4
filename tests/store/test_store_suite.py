"""The store suite every backend passes: run once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bridge.store import Outcome, SqliteStore, StatusReply
from schemas import Page, StatusEvent
from schemas.record import RemoteStatus
from tests.store.conftest import Store, attachment, document, new_document_outcome, raw


async def test_save_page_is_idempotent_and_returns_only_new_ids(store: Store) -> None:
    """A re-read of the same (source, unit, external_id, version) is ignored; a new version is new."""
    first = await store.save_page("src", Page(records=(raw("a"), raw("b")), cursor="c1"))
    again = await store.save_page("src", Page(records=(raw("a"), raw("b", "2")), cursor="c2"))
    assert len(first) == 2 and len(again) == 1 and again[0] not in first
    stored = await store.record(first[0])
    assert stored is not None
    assert stored.raw == raw("a") and not stored.acked and stored.outcome is None
    assert await store.get_cursor("src") == "c2"


async def test_record_round_trips_payload_and_attachments(store: Store) -> None:
    """Payload bytes (even non-UTF-8) and attachment metadata come back exactly."""
    rec = raw("x", payload=b"\xff\x00<xml/>", attachments=(attachment(b"pdf"),))
    (rid,) = await store.save_records([rec])
    stored = await store.record(rid)
    assert stored is not None and stored.raw == rec
    assert await store.save_records([rec]) == []


async def test_cursor_and_page_share_one_transaction(store: Store) -> None:
    """A page that fails to store leaves neither its records nor its cursor behind."""
    await store.save_page("src", Page(records=(raw("a"),), cursor="c1"))
    broken = raw("c").model_copy(update={"received_at": None})  # fails after "b" is written
    with pytest.raises(AttributeError):
        await store.save_page("src", Page(records=(raw("b"), broken), cursor="c2"))
    assert await store.get_cursor("src") == "c1"
    assert [r.raw.external_id for r in await store.unprocessed()] == ["a"]


async def test_page_without_cursor_keeps_the_cursor(store: Store) -> None:
    """cursor None stores the records and leaves the stored cursor alone."""
    await store.save_page("src", Page(records=(), cursor="c1"))
    await store.save_page("src", Page(records=(raw("a"),), cursor=None))
    assert await store.get_cursor("src") == "c1"
    assert await store.get_cursor("other") is None


async def test_unacked_and_mark_acked(store: Store) -> None:
    """unacked lists a source's records in order until each is acknowledged."""
    await store.save_page("src", Page(records=(raw("a"), raw("b"), raw("c", source="other"))))
    assert [r.raw.external_id for r in await store.unacked("src")] == ["a", "b"]
    await store.mark_acked("src", "u1", "a", "1")
    left = await store.unacked("src")
    assert [r.raw.external_id for r in left] == ["b"]
    assert [r.raw.external_id for r in await store.unacked("src", limit=0)] == []


async def test_unprocessed_until_applied(store: Store) -> None:
    """A record leaves unprocessed() once a decision is applied to it."""
    ids = await store.save_records([raw("a"), raw("b")])
    assert [r.id for r in await store.unprocessed()] == ids
    doc_id = await store.apply(new_document_outcome(ids[0], document()))
    assert [r.id for r in await store.unprocessed()] == [ids[1]]
    rec = await store.record(ids[0])
    assert rec is not None and rec.outcome == "document" and rec.document_id == doc_id
    assert rec.decision == {"rule": "new", "why": "không khớp / no match"}


async def test_apply_new_document_indexes_and_enqueues(store: Store) -> None:
    """outcome document: the row, its attachment index, revision 1 and one create per sink."""
    (rid,) = await store.save_records([raw("a")])
    doc = document(attachments=(attachment(b"pdf-bytes"),))
    doc_id = await store.apply(new_document_outcome(rid, doc))
    assert doc_id is not None
    row = await store.document(doc_id)
    assert row is not None and row.document == doc and row.triple == "h55|335|2024"
    assert row.state == "active" and row.revision == 1 and row.conflicts == []
    assert [d.id for d in await store.documents_by_triple("h55|335|2024")] == [doc_id]
    by_sha = await store.documents_by_attachment([doc.attachments[0].sha256, "0" * 64])
    assert [d.id for d in by_sha] == [doc_id]
    assert await store.documents_by_attachment([]) == []
    assert [r["revision"] for r in await store.revisions_of(doc_id)] == [1]
    (delivery,) = await store.deliveries_of(doc_id)
    assert (delivery.op, delivery.sink, delivery.unit, delivery.state) == (
        "create",
        "home",
        "u1",
        "pending",
    )
    assert await store.sinks_holding(doc_id) == [("u1", "home")]
    assert [r.id for r in await store.records_of(doc_id)] == [rid]


async def test_apply_duplicate_records_conflict(store: Store) -> None:
    """outcome duplicate: no new document, the conflict is appended, no second create."""
    a, b, c = await store.save_records([raw("a"), raw("b", source="s2"), raw("c", source="s3")])
    doc_id = await store.apply(new_document_outcome(a, document()))
    for rid, field in ((b, "subject"), (c, "signer")):
        dup = Outcome(
            record_id=rid,
            outcome="duplicate",
            decision={"rule": "triple"},
            document_id=doc_id,
            conflict={"field": field, "values": ["x", "y"]},
            deliveries=(("u1", "home", "create", 1),),
        )
        assert await store.apply(dup) == doc_id
    row = await store.document(doc_id or 0)
    assert row is not None
    assert [c["field"] for c in row.conflicts] == ["subject", "signer"]
    assert len(await store.deliveries_of(doc_id or 0)) == 1
    assert len(await store.records_of(doc_id or 0)) == 3


async def test_apply_revision_updates_and_waits_for_create(store: Store) -> None:
    """outcome revision: document replaced, revision kept, the update waits for the create."""
    a, b = await store.save_records([raw("a"), raw("a", "2")])
    doc_id = await store.apply(new_document_outcome(a, document()))
    assert doc_id is not None
    revised = document(subject="Về việc họp giao ban (sửa đổi)", revision=2)
    outcome = Outcome(
        record_id=b,
        outcome="revision",
        decision={"rule": "version"},
        document_id=doc_id,
        updated_document=revised,
        deliveries=(("u1", "home", "update", 2),),
    )
    assert await store.apply(outcome) == doc_id
    row = await store.document(doc_id)
    assert row is not None and row.revision == 2 and row.document.subject.endswith("(sửa đổi)")
    assert [r["revision"] for r in await store.revisions_of(doc_id)] == [1, 2]
    create, update = await store.deliveries_of(doc_id)
    assert [d.id for d in await store.due_deliveries("home", 10)] == [create.id]
    await store.mark_delivered(create.id, "R-1")
    assert [d.id for d in await store.due_deliveries("home", 10)] == [update.id]
    assert await store.remote_id(doc_id, "u1", "home") == "R-1"


async def test_update_without_create_is_not_enqueued(store: Store) -> None:
    """An update for a sink that never got (or had cancelled) the create is dropped."""
    a, b = await store.save_records([raw("a"), raw("b")])
    doc_id = await store.apply(new_document_outcome(a, document(), deliveries=()))
    revoke = Outcome(
        record_id=b,
        outcome="revision",
        decision={},
        document_id=doc_id,
        deliveries=(("u1", "home", "revoke", 2),),
        cancel_pending_creates=True,
    )
    await store.apply(revoke)
    assert await store.deliveries_of(doc_id or 0) == []


async def test_revocation_before_delivery_cancels_the_create(store: Store) -> None:
    """cancel_pending_creates cancels a never-attempted create; the revoke is then dropped."""
    a, b = await store.save_records([raw("a"), raw("b")])
    doc_id = await store.apply(new_document_outcome(a, document()))
    revoke = Outcome(
        record_id=b,
        outcome="revision",
        decision={},
        document_id=doc_id,
        updated_document=document(state="revoked", revision=2),
        cancel_pending_creates=True,
        deliveries=(("u1", "home", "revoke", 2),),
    )
    await store.apply(revoke)
    (create,) = await store.deliveries_of(doc_id or 0)
    assert create.state == "cancelled"
    assert await store.sinks_holding(doc_id or 0) == []


async def test_apply_quarantined_then_decided_again_only_after_retry(store: Store) -> None:
    """outcome quarantined: listed with its reason; a decision applies once (a second one,
    say from an instance whose lease passed on, is refused) until an operator retries it."""
    (rid,) = await store.save_records([raw("a")])
    q = Outcome(
        record_id=rid,
        outcome="quarantined",
        decision={},
        quarantine=("secret", "văn bản mật / secret document"),
    )
    assert await store.apply(q) is None
    (item,) = await store.quarantined()
    assert (item["record_id"], item["kind"], item["source"], item["external_id"]) == (
        rid,
        "secret",
        "src",
        "a",
    )
    again = Outcome(record_id=rid, outcome="quarantined", decision={}, quarantine=("bad", "x"))
    assert await store.apply(again) is None
    (item,) = await store.quarantined()
    assert item["kind"] == "secret"
    assert await store.release_quarantined(item["id"], "test", release=False)
    await store.apply(again)
    (item,) = await store.quarantined()
    assert item["kind"] == "bad"


async def test_apply_waiting(store: Store) -> None:
    """outcome waiting: the record is listed by waiting() and not by unprocessed()."""
    (rid,) = await store.save_records([raw("a")])
    await store.apply(Outcome(record_id=rid, outcome="waiting", decision={"target": "x"}))
    assert [r.id for r in await store.waiting()] == [rid]
    assert await store.unprocessed() == []


async def test_due_deliveries_order_time_and_sink(store: Store) -> None:
    """Oldest first, only the sink asked, only when next_attempt_at has come."""
    ids = await store.save_records([raw("a"), raw("b"), raw("c")])
    docs = [
        await store.apply(
            new_document_outcome(rid, document(str(n)), deliveries=(("u1", sink, "create", 1),))
        )
        for n, (rid, sink) in enumerate(zip(ids, ["home", "home", "other"], strict=True))
    ]
    due = await store.due_deliveries("home", 10)
    assert [d.document_id for d in due] == docs[:2]
    await store.schedule_retry(due[0].id, at=1e12, error="503")
    later = await store.due_deliveries("home", 10)
    assert [d.document_id for d in later] == [docs[1]]
    assert [d.document_id for d in await store.due_deliveries("home", 10, now=2e12)] == docs[:2]
    (retried,) = [d for d in await store.deliveries_of(docs[0] or 0)]
    assert retried.attempts == 1 and retried.last_error == "503"
    assert await store.last_sink_errors() == {"home": "503"}


async def test_store_body_only_once(store: Store) -> None:
    """The first prepared body is kept: a retry sends the very same body and key."""
    (rid,) = await store.save_records([raw("a")])
    doc_id = await store.apply(new_document_outcome(rid, document()))
    (d,) = await store.due_deliveries("home", 1)
    await store.store_body(d.id, {"soKyHieu": "335/UBND-HC", "n": 1})
    await store.store_body(d.id, {"soKyHieu": "changed", "n": 2})
    (again,) = await store.deliveries_of(doc_id or 0)
    assert again.body == {"soKyHieu": "335/UBND-HC", "n": 1} and again.key == d.key


async def test_dead_letters_and_replay_keep_the_key(store: Store) -> None:
    """mark_dead → dead_letters; replay makes it pending again with the same key and body."""
    a, b = await store.save_records([raw("a"), raw("b")])
    d1 = await store.apply(new_document_outcome(a, document("1"), triple="t1"))
    await store.apply(new_document_outcome(b, document("2"), triple="t2"))
    first, second = await store.due_deliveries("home", 10)
    await store.store_body(first.id, {"x": 1})
    await store.mark_dead(first.id, "422 từ chối / refused")
    await store.mark_dead(second.id, "422")
    dead = await store.dead_letters()
    assert [d.id for d in dead] == [first.id, second.id] and dead[0].attempts == 1
    assert await store.replay(first.id, actor="op") == 1
    (replayed,) = await store.deliveries_of(d1 or 0)
    assert replayed.state == "pending" and replayed.attempts == 0
    assert replayed.key == first.key and replayed.body == {"x": 1}
    assert await store.replay(None, actor="op") == 1
    assert await store.dead_letters() == []


async def test_dead_create_blocks_later_operations(store: Store) -> None:
    """An update waits while the create before it is dead (replay comes first)."""
    a, b = await store.save_records([raw("a"), raw("a", "2")])
    doc_id = await store.apply(new_document_outcome(a, document()))
    upd = Outcome(
        record_id=b,
        outcome="revision",
        decision={},
        document_id=doc_id,
        updated_document=document(revision=2),
        deliveries=(("u1", "home", "update", 2),),
    )
    await store.apply(upd)
    (create,) = await store.due_deliveries("home", 10)
    await store.mark_dead(create.id, "x")
    assert await store.due_deliveries("home", 10) == []


async def test_counts(store: Store) -> None:
    """counts() per outcome, per source, per sink state, and documents."""
    a, _b, _c = await store.save_records([raw("a"), raw("b"), raw("c", source="s2")])
    await store.apply(new_document_outcome(a, document()))
    (d,) = await store.due_deliveries("home", 1)
    await store.mark_delivered(d.id, "R1")
    counts = await store.counts()
    assert counts == {
        "outcomes": {"document": 1, "unprocessed": 2},
        "per_source": {"src": 2, "s2": 1},
        "per_source_unit": {("src", "u1"): 2, ("s2", "u1"): 1},
        "per_sink": {"home": {"delivered": 1}},
        "documents": 1,
    }


async def test_search_documents(store: Store) -> None:
    """Search by text, unit, state and paging with `before`, newest first."""
    a, b, c = await store.save_records([raw("a"), raw("b", unit="u2"), raw("c")])
    d1 = await store.apply(new_document_outcome(a, document("1", "Về việc họp"), triple="t1"))
    d2 = await store.apply(new_document_outcome(b, document("2", "Về việc thi đua"), triple="t2"))
    d3 = await store.apply(new_document_outcome(c, document("3", "Kế hoạch họp"), triple="t3"))

    async def ids(**kw: object) -> list[int]:
        args: dict[str, object] = {"unit": None, "q": None, "state": None, "limit": 10}
        args["before"] = None
        args.update(kw)
        return [r.id for r in await store.search_documents(**args)]  # type: ignore[arg-type]

    assert await ids() == [d3, d2, d1]
    assert await ids(q="họp") == [d3, d1]
    assert await ids(unit="u2") == [d2]
    assert await ids(state="revoked") == []
    assert await ids(before=d3, limit=1) == [d2]


async def test_status_events_and_mirror_to_senders(store: Store) -> None:
    """Home status is stored once per status; senders owed a reply get the mirrored code."""
    (rid,) = await store.save_records([raw("a", source="vxp")])
    reply = StatusReply("01", "đã nhận / received", "u1", {"code": "H55"}, {"number": "335"})
    outcome = new_document_outcome(rid, document())
    outcome = dataclasses.replace(outcome, status_replies=(reply,))
    doc_id = await store.apply(outcome)
    (d,) = await store.due_deliveries("home", 1)
    await store.mark_delivered(d.id, "R-9")
    assert await store.status_pollable("home") == [(d.id, "R-9")]
    at = dt.datetime(2024, 3, 6, tzinfo=dt.UTC)
    events = [
        StatusEvent(sink="home", remote_id="R-9", status=RemoteStatus.DONE, updated_at=at),
        StatusEvent(sink="home", remote_id="R-9", status=RemoteStatus.DONE, updated_at=at),
    ]
    assert await store.save_status_events(events) == 1
    assert await store.save_status_events(events[:1]) == 0
    assert await store.is_done_at_home(doc_id or 0)
    assert await store.status_pollable("home") == []
    due = await store.due_status("vxp")
    assert [s.code for s in due] == ["01", "06"]
    assert due[0].to_organ == {"code": "H55"} and due[0].ref == {"number": "335"}
    await store.status_sent(due[0].id, "M-1")
    await store.status_failed(due[1].id, "timeout", None)
    assert await store.due_status("vxp") == []
    statuses = await store.statuses_of(doc_id or 0)
    assert [h["status"] for h in statuses["home"]] == ["done"]
    assert [(s["code"], s["state"]) for s in statuses["sent"]] == [("01", "sent"), ("06", "dead")]


async def test_unfinished_at_home_are_listed_in_rounds(store: Store) -> None:
    """Documents not finished at home come in delivery order from a place in the round; a
    final status (done, rejected) takes one out of the round, another status does not."""
    ids = await store.save_records([raw(str(i)) for i in range(5)])
    delivered = []
    for i, rid in enumerate(ids):
        await store.apply(new_document_outcome(rid, document(str(i)), triple=f"t{i}"))
        (d,) = await store.due_deliveries("home", 1)
        await store.mark_delivered(d.id, f"R-{i}")
        delivered.append((d.id, f"R-{i}"))
    assert await store.status_pollable("home", 0, 2) == delivered[:2]
    assert await store.status_pollable("home", delivered[1][0], 2) == delivered[2:4]
    assert await store.status_pollable("home", delivered[3][0], 2) == delivered[4:]
    at = dt.datetime(2024, 3, 6, tzinfo=dt.UTC)
    await store.save_status_events(
        [
            StatusEvent(sink="home", remote_id="R-1", status=RemoteStatus.DONE, updated_at=at),
            StatusEvent(sink="home", remote_id="R-2", status=RemoteStatus.REJECTED, updated_at=at),
            StatusEvent(
                sink="home", remote_id="R-3", status=RemoteStatus.PROCESSING, updated_at=at
            ),
        ]
    )
    assert await store.status_pollable("home") == [delivered[0], delivered[3], delivered[4]]
    assert await store.status_pollable("elsewhere") == []


async def test_status_retry_comes_back_when_due(store: Store) -> None:
    """status_failed with a retry time makes the message due again only then."""
    (rid,) = await store.save_records([raw("a", source="vxp")])
    reply = StatusReply("01", "đã nhận", "u1", {}, {})
    await store.apply(
        Outcome(record_id=rid, outcome="waiting", decision={}, status_replies=(reply,))
    )
    (s,) = await store.due_status("vxp", now=100.0)
    await store.status_failed(s.id, "503", 200.0)
    assert await store.due_status("vxp", now=150.0) == []
    (again,) = await store.due_status("vxp", now=250.0)
    assert again.attempts == 1


async def test_remember_event(store: Store) -> None:
    """A webhook event id is new once, then a repeat."""
    assert await store.remember_event("tdoffice", "ev-1")
    assert not await store.remember_event("tdoffice", "ev-1")
    assert await store.remember_event("other", "ev-1")


async def test_schema_version_matches_sqlite_migrations(store: Store) -> None:
    """Both backends report the shared schema version."""
    from bridge.store.migrations import MIGRATIONS

    assert await store.schema_version() == max(v for v, _ in MIGRATIONS)


async def test_migration_7_takes_finished_documents_out_of_the_round(tmp_path: Path) -> None:
    """A store from before migration 7: documents already done at home are marked final when
    it runs, so the status poller does not ask about them again."""
    path = tmp_path / "old.sqlite3"
    async with SqliteStore(path) as store:
        a, b = await store.save_records([raw("a"), raw("b")])
        for rid, triple, remote in ((a, "t1", "R-1"), (b, "t2", "R-2")):
            await store.apply(new_document_outcome(rid, document(triple), triple=triple))
            (d,) = await store.due_deliveries("home", 1)
            await store.mark_delivered(d.id, remote)
        at = dt.datetime(2024, 3, 6, tzinfo=dt.UTC)
        done = StatusEvent(sink="home", remote_id="R-1", status=RemoteStatus.DONE, updated_at=at)
        await store.save_status_events([done])
    with contextlib.closing(sqlite3.connect(path)) as db, db:  # back to the shape of version 6
        db.execute("DROP INDEX outbox_status_open")
        db.execute("ALTER TABLE outbox DROP COLUMN status_final")
        db.execute("DELETE FROM schema_version WHERE version = 7")
    async with SqliteStore(path) as store:
        assert [remote for _, remote in await store.status_pollable("home")] == ["R-2"]
