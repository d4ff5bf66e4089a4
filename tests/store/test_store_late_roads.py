"""Roads that join a document late, on both backends: the statuses their sender is owed, and
the corrections queued for sinks that hold the document."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bridge.store import Outcome, StatusReply
from schemas import StatusEvent
from schemas.record import RemoteStatus
from tests.store.conftest import Store, document, new_document_outcome, raw

AT = dt.datetime(2024, 3, 6, tzinfo=dt.UTC)
ARRIVED = StatusReply("01", "đã đến / arrived", "u1", {"code": "H55"}, {"number": "335"})


def _event(status: RemoteStatus, remote_id: str = "R-1") -> StatusEvent:
    return StatusEvent(sink="home", remote_id=remote_id, status=status, updated_at=AT)


def _duplicate(record_id: int, doc_id: int, **fields: object) -> Outcome:
    return Outcome(
        record_id=record_id,
        outcome="duplicate",
        decision={"rule": "identity"},
        document_id=doc_id,
        **fields,  # type: ignore[arg-type]
    )


async def _delivered(store: Store) -> int:
    """A document from a road whose sender hears nothing from us, delivered home as R-1."""
    (rid,) = await store.save_records([raw("td-1", source="td")])
    doc_id = await store.apply(new_document_outcome(rid, document()))
    assert doc_id is not None
    (create,) = await store.due_deliveries("home", 5)
    await store.mark_delivered(create.id, "R-1")
    return doc_id


async def test_a_road_matched_late_is_owed_every_status_already_reported(store: Store) -> None:
    """01, then 03 and 04 in the order a document moves at home (whatever order they were
    reported in), named as its 01 named the document; later statuses once each."""
    doc_id = await _delivered(store)
    await store.save_status_events([_event(RemoteStatus.ASSIGNED)])
    await store.save_status_events([_event(RemoteStatus.RECEIVED)])
    (late,) = await store.save_records([raw("vxp-1", source="vxp")])
    await store.apply(_duplicate(late, doc_id, status_replies=(ARRIVED,)))
    due = await store.due_status("vxp")
    assert [s.code for s in due] == ["01", "03", "04"]
    assert all(s.to_organ == ARRIVED.to_organ and s.ref == ARRIVED.ref for s in due)
    assert all(s.record_id == late for s in due)

    await store.save_status_events([_event(RemoteStatus.ASSIGNED), _event(RemoteStatus.DONE)])
    assert [s.code for s in await store.due_status("vxp")] == ["01", "03", "04", "06"]
    (mail,) = await store.save_records([raw("mail-1", source="mail")])
    await store.apply(_duplicate(mail, doc_id))  # a road whose sender hears nothing
    assert await store.due_status("mail") == []
    sent = (await store.statuses_of(doc_id))["sent"]
    assert [(s["source"], s["code"]) for s in sent] == [
        ("vxp", "01"),
        ("vxp", "03"),
        ("vxp", "04"),
        ("vxp", "06"),
    ]


async def test_a_road_that_joins_before_any_status_hears_only_its_01(store: Store) -> None:
    doc_id = await _delivered(store)
    (late,) = await store.save_records([raw("vxp-1", source="vxp")])
    await store.apply(_duplicate(late, doc_id, status_replies=(ARRIVED,)))
    assert [s.code for s in await store.due_status("vxp")] == ["01"]


async def test_each_correction_is_a_row_of_its_own_with_its_note(store: Store) -> None:
    """Corrections of one document at one sink are numbered, keep their note and key, wait
    for the create, and go only where a create was not cancelled."""
    (rid,) = await store.save_records([raw("td-1", source="td")])
    doc_id = await store.apply(new_document_outcome(rid, document()))
    assert doc_id is not None
    notes = ["mã cơ quan / issuer code", "tên cơ quan / issuer name"]
    for n, note in enumerate(notes):
        (dup,) = await store.save_records([raw(f"road-{n}", source=f"road{n}")])
        corrections = (("u1", "home", "correct", 1), ("u1", "elsewhere", "correct", 1))
        await store.apply(_duplicate(dup, doc_id, deliveries=corrections, correction_note=note))
    (create,) = await store.due_deliveries("home", 10)  # the corrections wait for the create
    assert create.op == "create" and create.note is None
    await store.mark_delivered(create.id, "R-1")
    due = await store.due_deliveries("home", 10)
    assert [(d.op, d.revision, d.note) for d in due[:1]] == [("correct", 1, notes[0])]
    rows = [d for d in await store.deliveries_of(doc_id) if d.op == "correct"]
    assert [(d.sink, d.revision, d.note) for d in rows] == [
        ("home", 1, notes[0]),
        ("home", 2, notes[1]),
    ]
    assert len({d.key for d in rows}) == 2


async def test_a_correction_note_rides_only_on_corrections(store: Store) -> None:
    (rid,) = await store.save_records([raw("td-1", source="td")])
    outcome = dataclasses.replace(
        new_document_outcome(rid, document()), correction_note="not for a create"
    )
    doc_id = await store.apply(outcome)
    (create,) = await store.deliveries_of(doc_id or 0)
    assert create.note is None
