"""A system that answers again: the work parked for it is due at once, on both backends."""

from __future__ import annotations

from bridge.store import Outcome, StatusReply
from tests.store.conftest import Store, document, new_document_outcome, raw


async def test_release_parked_deliveries_brings_only_that_sinks_pending_forward(
    store: Store,
) -> None:
    """Parked deliveries of the sink are due now with their attempts kept; other sinks' rows,
    rows already due and finished rows are left as they are."""
    for i in range(3):
        (rid,) = await store.save_records([raw(f"d{i}")])
        outcome = new_document_outcome(
            rid,
            document(number=str(100 + i)),
            triple=f"h55|{100 + i}|2024",
            deliveries=(("u1", "home", "create", 1), ("u1", "archive", "create", 1)),
        )
        await store.apply(outcome)
    home = await store.due_deliveries("home", 10, now=1000.0)
    archive = await store.due_deliveries("archive", 10, now=1000.0)
    rows = [d.id for d in home]
    await store.schedule_retry(rows[0], at=5000.0, error="503")
    await store.schedule_retry(rows[1], at=9000.0, error="503")
    await store.mark_delivered(rows[2], "remote-2")
    await store.schedule_retry(archive[0].id, at=5000.0, error="503")

    assert await store.due_deliveries("home", 10, now=1100.0) == []
    assert await store.release_parked_deliveries("home", now=1100.0) == 2
    due = await store.due_deliveries("home", 10, now=1100.0)
    assert [d.id for d in due] == rows[:2]
    assert [d.attempts for d in due] == [1, 1]
    assert [d.id for d in await store.due_deliveries("archive", 10, now=1100.0)] == [
        d.id for d in archive[1:]
    ]
    assert await store.release_parked_deliveries("home", now=1100.0) == 0


async def test_release_parked_status_brings_that_sources_messages_forward(store: Store) -> None:
    """Status messages put off for the axis node are due now, attempts kept; another node's
    messages are left as they are."""
    ids = {}
    for source in ("axis", "other"):
        (rid,) = await store.save_records([raw(f"s-{source}", source=source)])
        reply = StatusReply("01", "đã đến / arrived", "u1", {}, {})
        await store.apply(
            Outcome(record_id=rid, outcome="waiting", decision={}, status_replies=(reply,))
        )
        (item,) = await store.due_status(source, now=1000.0)
        await store.status_failed(item.id, "503", 5000.0)
        ids[source] = item.id
    assert await store.release_parked_status("axis", now=1100.0) == 1
    (again,) = await store.due_status("axis", now=1100.0)
    assert again.id == ids["axis"] and again.attempts == 1
    assert await store.due_status("other", now=1100.0) == []
