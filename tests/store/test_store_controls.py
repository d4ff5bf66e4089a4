"""An operator's controls kept by the store (a paused source, audited) and the rows of a
document's timeline; on both backends."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bridge.domain.timeline import timeline
from bridge.store import StatusReply
from schemas import StatusEvent
from schemas.record import RemoteStatus
from tests.store.conftest import Store, document, new_document_outcome, raw


async def test_pause_is_kept_audited_and_idempotent(store: Store) -> None:
    assert not await store.is_paused("td") and await store.paused_endpoints() == set()
    assert await store.set_paused("td", True, "lan") is True
    assert await store.set_paused("td", True, "lan") is False  # already paused
    assert await store.is_paused("td") and await store.paused_endpoints() == {"td"}
    assert await store.set_paused("td", False, "minh") is True
    assert not await store.is_paused("td") and await store.paused_endpoints() == set()
    await store.note_action("minh", "poll_now", "source:td", {"paused": False})
    trail = await store.audit_trail()
    assert [(a["actor"], a["action"], a["target"]) for a in reversed(trail)] == [
        ("lan", "pause", "source:td"),
        ("lan", "pause", "source:td"),
        ("minh", "resume", "source:td"),
        ("minh", "poll_now", "source:td"),
    ]
    assert [a["detail"] for a in reversed(trail)][:3] == [
        {"changed": True},
        {"changed": False},
        {"changed": True},
    ]


async def test_timeline_rows_of_a_document(store: Store) -> None:
    """Records, deliveries with their times, statuses in and out, actions naming it."""
    (rid,) = await store.save_records([raw("a", source="vxp")])
    reply = StatusReply("01", "đã nhận / received", "u1", {"code": "H55"}, {"number": "335"})
    outcome = dataclasses.replace(new_document_outcome(rid, document()), status_replies=(reply,))
    doc_id = await store.apply(outcome)
    assert doc_id is not None
    (rid2,) = await store.save_records([raw("a", source="td")])
    await store.apply(dataclasses.replace(new_document_outcome(rid2, document()), document_id=None))
    (d,) = await store.due_deliveries("home", 1)
    await store.mark_delivered(d.id, "R-9")
    at = dt.datetime.now(dt.UTC)
    event = StatusEvent(sink="home", remote_id="R-9", status=RemoteStatus.DONE, updated_at=at)
    await store.save_status_events([event])
    other = await store.search_documents(unit=None, q=None, state=None, limit=10, before=None)
    assert len(other) == 2
    rows = await store.timeline_rows(doc_id)
    assert [r["id"] for r in rows["records"]] == [rid]
    assert rows["records"][0]["source"] == "vxp" and rows["records"][0]["outcome"] == "document"
    (delivery,) = rows["deliveries"]
    assert (delivery["state"], delivery["remote_id"]) == ("delivered", "R-9")
    assert delivery["created_at"] and delivery["done_at"]
    assert [h["status"] for h in rows["home"]] == ["done"]
    assert [s["code"] for s in rows["sent"]] == ["01", "06"]
    assert rows["audit"] == []
    other_id = next(f.id for f in other if f.id != doc_id)
    assert await store.merge_documents(doc_id, other_id, "lan")
    (action,) = (await store.timeline_rows(doc_id))["audit"]
    assert (action["actor"], action["action"], action["detail"]["merged"]) == (
        "lan",
        "merge",
        other_id,
    )
    kinds = [e["kind"] for e in timeline(await store.timeline_rows(doc_id))]
    assert kinds[:2] == ["record", "decision"]
    assert {"delivery_queued", "delivery_done", "status_in", "status_out", "action"} <= set(kinds)
