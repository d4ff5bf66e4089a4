"""Sending (văn bản đi) in the store, on both backends: items stored before acknowledgement,
a document taken with its recipients, moves that owe dispatch reports in order under stable
keys, messages kept before their first attempt, the internal road, the figures."""

from __future__ import annotations

import time

from bridge.domain.outgoing import Intake, Move, NewRecipient
from schemas import Page
from tests.store.conftest import Store, raw


def _intake(item_id: int, version: int = 1, **extra: object) -> Intake:
    base: dict[str, object] = {
        "item_id": item_id,
        "unit": "u1",
        "outbox": "out",
        "home_id": "D1",
        "document_key": "000.00.31.H59,2026/11/22,12/UBND-VP",
        "version": version,
        "state": "active",
        "kind": "new",
        "refused": None,
        "data": {"v": version},
    }
    base.update(extra)
    return Intake(**base)  # type: ignore[arg-type]


async def test_items_cursor_and_acknowledgement(store: Store) -> None:
    page = Page(records=(raw("s1", source="out"), raw("s2", source="out")), cursor="c2")
    assert len(await store.save_outbox_page("out", page)) == 2
    assert await store.save_outbox_page("out", page) == []  # a re-read is not new
    assert await store.get_cursor("out") == "c2"
    assert [r.external_id for r in await store.outbox_unacked("out")] == ["s1", "s2"]
    await store.mark_outbox_acked("out", [("u1", "s1", "1")])
    assert [r.external_id for r in await store.outbox_unacked("out")] == ["s2"]
    untaken = await store.untaken_items()
    assert [(o, r.external_id) for _, o, r in untaken] == [("out", "s1"), ("out", "s2")]
    assert await store.unprocessed() == []  # never read as an incoming record


async def test_take_move_report_in_order(store: Store) -> None:
    (item,) = await store.save_outbox_items("out", [raw("s1", source="out")])
    axis = NewRecipient(
        "000.00.17.H59",
        ("000.00.12.H59", "000.00.17.H59"),
        "Sở",
        None,
        "axis",
        "000.00.17.H59",
        "có nút",
        "queued",
    )
    secret_paper = NewRecipient("X", ("X",), None, None, "paper", None, "không", "undeliverable")
    doc_id = await store.take_item(_intake(item, new_recipients=(axis, secret_paper)))
    assert await store.untaken_items() == []
    a, _ = await store.recipients_of(doc_id)
    assert (a.road, a.state, a.listed) == ("axis", "queued", ("000.00.12.H59", "000.00.17.H59"))
    # forward only: sent, then a late 'queued' on the same road and version is refused
    assert await store.move(Move(a.id, "sent"), Move(a.id, "queued")) == [True, False]
    assert await store.move(Move(a.id, "arrived", status_code="01")) == [True]
    assert await store.move(Move(a.id, "sent")) == [False]
    assert await store.move(Move(a.id, "arrived", status_code="15")) == [True]  # relayed
    reports = await store.due_reports("out", limit=100)
    # one due per recipient (the oldest): the axis one's first under each listed code waits
    assert {r.body["recipient"] for r in reports} == {"000.00.12.H59", "X"}
    seen: list[tuple[str, str, str | None]] = []
    keys: set[str] = set()
    for _ in range(20):
        due = await store.due_reports("out", limit=100)
        if not due:
            break
        for r in due:
            seen.append((r.body["recipient"], r.body["state"], r.body["statusCode"]))
            keys.add(r.key)
            await store.report_sent(r.id)
    axis_seen = [s for s in seen if s[0] == "000.00.17.H59"]
    assert [s[1] for s in axis_seen] == ["queued", "sent", "arrived", "arrived"]
    assert [s[2] for s in axis_seen] == [None, None, "01", "15"]
    assert len(keys) == len(seen) == 9
    a2 = await store.recipient(a.id)
    assert a2 is not None and a2.status_code == "15" and a2.sent_at and a2.arrived_at


async def test_failed_road_then_next_and_paper_task(store: Store) -> None:
    (item,) = await store.save_outbox_items("out", [raw("s1", source="out")])
    n = NewRecipient("C", ("C",), None, "c@x.vn", "axis", "C", "axis", "queued")
    doc_id = await store.take_item(_intake(item, new_recipients=(n,)))
    (r,) = await store.recipients_of(doc_id)
    done = await store.move(
        Move(r.id, "failed", detail="23", failed_road="axis", error="khóa / locked"),
        Move(r.id, "queued", road="mail", to="c@x.vn", why="thư"),
        Move(r.id, "failed", detail="550", failed_road="mail"),
        Move(r.id, "undeliverable", road="paper", to=None, why="giấy"),
        paper=[(r.id, 1, "new")],
    )
    assert done == [True, True, True, True]
    (r2,) = await store.recipients_of(doc_id)
    assert (r2.road, r2.state, r2.failed_roads) == ("paper", "undeliverable", ("axis", "mail"))
    assert [a["error"] for a in await store.attempts_of(r.id)] == ["khóa / locked"]
    (task,) = await store.paper_tasks()
    assert (task["code"], task["kind"], task["unit"]) == ("C", "new", "u1")
    assert await store.paper_tasks(units=["other"]) == []
    # an operator's retry puts it back on the mail road: the paper dispatch is no longer owed
    (moved,) = await store.move(
        Move(r.id, "queued", road="mail", to="c@x.vn", why="người vận hành thử lại")
    )
    assert moved and await store.paper_tasks() == []


async def test_messages_kept_before_attempts(store: Store) -> None:
    (item,) = await store.save_outbox_items("out", [raw("s1", source="out")])
    doc_id = await store.take_item(_intake(item))
    mid = await store.keep_message(doc_id, 1, "axis", "new", [1, 2], "KEY", b"<edXML/>")
    first = await store.message_started(mid)
    assert await store.message_started(mid) == first  # the first attempt's time is kept
    (m,) = await store.messages_of(doc_id, 1)
    assert (m.state, m.data, m.recipients, m.first_at) == ("sending", b"<edXML/>", (1, 2), first)
    await store.message_ended(mid, "sent", "DOC-9")
    (m,) = await store.messages_of(doc_id)
    assert (m.state, m.remote_id) == ("sent", "DOC-9")


async def test_internal_road_and_figures(store: Store) -> None:
    (item,) = await store.save_outbox_items("out", [raw("s1", source="out")])
    n = NewRecipient("U2", ("U2",), None, None, "internal", "U2", "nội bộ", "queued")
    refused = NewRecipient("U3", ("U3",), None, None, None, None, None, "refused")
    doc_id = await store.take_item(_intake(item, new_recipients=(n, refused)))
    r, _ = await store.recipients_of(doc_id)
    record = raw("out/D1", source="internal", unit="U2")
    assert await store.deliver_internal(record, Move(r.id, "sent"), Move(r.id, "arrived"))
    assert not await store.deliver_internal(record)  # once
    assert await store.internal_progress(["arrived"]) == []  # nothing reported yet
    (stored,) = await store.unprocessed()
    assert stored.raw.source == "internal"
    figures = await store.outbound_figures()
    assert figures["documents"] == 1 and figures["recipients"] == 2
    assert figures["by_state"]["arrived"] == 1 and figures["by_state"]["refused"] == 1
    assert figures["by_road"] == {"internal": 1, "axis": 0, "mail": 0, "paper": 0}
    assert figures["taken"] == {"out": 1}
    assert (await store.outbound_figures(units=["zz"]))["documents"] == 0
    page = await store.outgoing_page(None, "arrived", 10, None)
    assert [d.id for d in page] == [doc_id]
    assert await store.outgoing_page(None, "done", 10, None) == []
    assert await store.waiting_for_01("9999") == []
    assert time.time() > 0


async def test_axis_recipients_without_01_are_found_with_their_documents(store: Store) -> None:
    """The overdue-01 alert's question: axis recipients sent before a time that have not said
    01, each with its document (several documents, one query for them)."""
    docs = []
    for n in range(3):
        (item,) = await store.save_outbox_items("out", [raw(f"w{n}", source="out")])
        rcpts = tuple(
            NewRecipient(c, (c,), None, None, "axis", c, "axis", "queued") for c in ("A", "B")
        )
        doc_id = await store.take_item(
            _intake(item, home_id=f"W{n}", document_key=f"k{n}", new_recipients=rcpts)
        )
        docs.append(doc_id)
        a, b = await store.recipients_of(doc_id)
        await store.move(Move(a.id, "sent"), Move(b.id, "sent"))
        if n == 2:
            await store.move(Move(b.id, "arrived", status_code="01"))
    waiting = await store.waiting_for_01("9999")
    assert sorted((d.id, r.code) for d, r in waiting) == [
        (docs[0], "A"),
        (docs[0], "B"),
        (docs[1], "A"),
        (docs[1], "B"),
        (docs[2], "A"),
    ]
    assert all(d.id == r.doc_id for d, r in waiting)
    assert await store.waiting_for_01("0000") == []
