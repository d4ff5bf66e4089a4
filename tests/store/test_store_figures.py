"""The store's figures on both backends: per unit (a document addressed to two units counts in
each; a unit's first record of a document is no duplicate), the backlog by source, every home
system a document reached, and the rows throughput is bucketed from."""

from __future__ import annotations

from bridge.domain.figures import total
from bridge.store import Outcome
from tests.store.conftest import NOW, Store, document, new_document_outcome, raw

BOTH = (("u1", "home1", "create", 1), ("u2", "home2", "create", 1))


def _duplicate(record_id: int, doc_id: int) -> Outcome:
    return Outcome(
        record_id=record_id,
        outcome="duplicate",
        decision={"rule": "identity"},
        document_id=doc_id,
    )


async def _two_units(store: Store) -> int:
    """A document addressed to units u1 and u2, by two roads in u1 and one in u2; delivered to
    home1, pending at home2; one more record of u2 not processed yet."""
    first, again, other = await store.save_records(
        [raw("a-1", source="a"), raw("b-1", source="b"), raw("c-1", source="c", unit="u2")]
    )
    await store.save_records([raw("c-2", source="c", unit="u2")])
    doc_id = await store.apply(new_document_outcome(first, document(), deliveries=BOTH))
    assert doc_id is not None
    await store.apply(_duplicate(again, doc_id))
    await store.apply(_duplicate(other, doc_id))
    (home1,) = await store.due_deliveries("home1", 5)
    await store.mark_delivered(home1.id, "R-1")
    return doc_id


async def test_unit_figures_count_a_two_unit_document_in_each(store: Store) -> None:
    await _two_units(store)
    figures = await store.unit_figures()
    assert (figures["u1"]["documents"], figures["u1"]["duplicates"]) == (1, 1)
    assert (figures["u2"]["documents"], figures["u2"]["duplicates"]) == (1, 0)
    assert (figures["u1"]["delivered"], figures["u2"]["pending"]) == (1, 1)
    assert figures["u2"]["unprocessed"] == 1 and figures["u2"]["received"] == 2
    both = total(figures.values())
    assert (both["documents"], both["duplicates"], both["received"]) == (2, 1, 4)
    assert await store.backlog() == {("u2", "c"): 1}


async def test_delivered_to_names_every_home_reached(store: Store) -> None:
    doc_id = await _two_units(store)
    (home2,) = await store.due_deliveries("home2", 5)
    await store.mark_delivered(home2.id, "R-2")
    reached = (await store.delivered_to([doc_id, doc_id + 100]))[doc_id]
    assert [(d["unit"], d["sink"], d["remote_id"]) for d in reached] == [
        ("u1", "home1", "R-1"),
        ("u2", "home2", "R-2"),
    ]
    assert all(d["at"] for d in reached)
    assert await store.delivered_to([]) == {}


async def test_throughput_rows(store: Store) -> None:
    await _two_units(store)
    since = (NOW.replace(year=NOW.year - 1)).isoformat()
    received, deliveries = await store.throughput_rows(since)
    assert len(received) == 4
    assert sorted((done is not None, ok) for _, done, ok in deliveries) == [
        (False, False),
        (True, True),
    ]
    later, open_only = await store.throughput_rows("9999-01-01T00:00:00+00:00")
    assert later == [] and [(done, ok) for _, done, ok in open_only] == [(None, False)]
