"""The unit of each row an operator's units decide about, on both backends."""

from __future__ import annotations

from bridge.store import Outcome
from tests.store.conftest import Store, document, new_document_outcome, raw


async def test_units_of_documents_deliveries_and_quarantined_records(store: Store) -> None:
    """A document reached u1 by its record and u3 by a delivery; u2's record is held."""
    a, b, c = await store.save_records([raw("a"), raw("b", unit="u2"), raw("c", unit="u2")])
    deliveries = (("u1", "home", "create", 1), ("u3", "home3", "create", 1))
    doc_id = await store.apply(new_document_outcome(a, document(), deliveries=deliveries))
    assert doc_id is not None
    held = Outcome(record_id=b, outcome="quarantined", decision={}, quarantine=("secret", "mật"))
    await store.apply(held)
    await store.apply(Outcome(record_id=c, outcome="waiting", decision={}))
    assert await store.document_units(doc_id) == {"u1", "u3"}
    assert await store.document_units(999) == set()
    (q,) = await store.quarantined()
    assert await store.quarantine_unit(q["id"]) == "u2"
    assert await store.quarantine_unit(999) is None
    units = {d.sink: await store.delivery_unit(d.id) for d in await store.deliveries_of(doc_id)}
    assert units == {"home": "u1", "home3": "u3"}
    assert await store.delivery_unit(999) is None
    assert await store.counts_in({"u2"}) == {
        "outcomes": {"quarantined": 1, "waiting": 1},
        "documents": 0,
    }
    assert (await store.counts_in({"u1", "u2"}))["documents"] == 1
    assert await store.counts_in(set()) == {"outcomes": {}, "documents": 0}


async def test_search_within_units(store: Store) -> None:
    """`units` keeps the documents addressed to one of them; an empty set finds nothing."""
    a, b = await store.save_records([raw("a"), raw("b", unit="u2")])
    first = await store.apply(new_document_outcome(a, document("1"), triple="t1"))
    second = await store.apply(new_document_outcome(b, document("2"), triple="t2"))

    async def found(units: set[str] | None) -> list[int]:
        rows = await store.search_documents(
            unit=None, q=None, state=None, limit=10, before=None, units=units
        )
        return [r.id for r in rows]

    assert await found(None) == [second, first]
    assert await found({"u2"}) == [second]
    assert await found({"u1", "u2"}) == [second, first]
    assert await found(set()) == []
