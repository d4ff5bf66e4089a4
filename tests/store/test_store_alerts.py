"""Alerts on both backends: their state kept and replaced, and the counts the rules watch."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bridge.domain.alerts import AlertKind, AlertRecord, Told
from bridge.store import Outcome, StatusReply
from tests.store.conftest import Store, document, new_document_outcome, raw


async def test_alerts_are_kept_and_replaced(store: Store) -> None:
    assert await store.alerts() == []
    await store.save_alerts([])
    road = AlertRecord(
        "road:vd-vxp",
        AlertKind.ROAD_DOWN,
        True,
        "2026-12-07T03:00:00+00:00",
        detail={"units": [["000.00.33.H49", "Vân Đồn"]], "last_error": "HTTP 503"},
        told={"email": Told(started=True, last_at=1796612400.5)},
    )
    dead = AlertRecord("dead_letters", AlertKind.DEAD_LETTERS, False, "x", detail={"baseline": 2})
    await store.save_alerts([road, dead])
    assert await store.alerts() == [dead, road]
    ended = dataclasses.replace(
        road,
        firing=False,
        ended_at="2026-12-07T04:00:00+00:00",
        told={"email": Told(True, 1796612400.5, True), "webhook": Told()},
    )
    await store.save_alerts([ended])
    assert await store.alerts() == [dead, ended]


async def test_open_counts_are_dead_letters_and_records_held(store: Store) -> None:
    assert await store.open_counts() == {"dead_letters": 0, "quarantined": 0}
    a, b, c = await store.save_records([raw("a"), raw("b"), raw("c")])
    await store.apply(new_document_outcome(a, document()))
    (delivery,) = await store.due_deliveries("home", 10)
    await store.mark_dead(delivery.id, "422")
    for rid in (b, c):
        held = Outcome(
            record_id=rid, outcome="quarantined", decision={}, quarantine=("secret", "mật")
        )
        await store.apply(held)
    assert await store.open_counts() == {"dead_letters": 1, "quarantined": 2}
    (entry, _) = await store.quarantined()
    await store.release_quarantined(entry["id"], "op", release=True)
    await store.replay(delivery.id, "op")
    assert await store.open_counts() == {"dead_letters": 0, "quarantined": 1}


async def test_unsent_status_counts_what_is_owed_before_a_time(store: Store) -> None:
    ids = await store.save_records([raw("a", source="vxp"), raw("b", source="vxp")])
    for i, rid in enumerate(ids):
        reply = StatusReply("01", "đã đến / arrived", "u1", {"code": "H55"}, {"number": str(i)})
        outcome = new_document_outcome(rid, document(str(i)), triple=f"t{i}")
        await store.apply(dataclasses.replace(outcome, status_replies=(reply,)))
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()
    earlier = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    [(source, unit, count, oldest)] = await store.unsent_status("01", later)
    assert (source, unit, count) == ("vxp", "u1", 2) and oldest < later
    assert await store.unsent_status("01", earlier) == []
    assert await store.unsent_status("03", later) == []
    first, _ = await store.due_status("vxp")
    await store.status_sent(first.id, "sent-1")
    assert [r[2] for r in await store.unsent_status("01", later)] == [1]
