"""Per-unit figures add up: the totals are the units' sums; duplicates are counted per unit."""

from __future__ import annotations

from bridge.domain.figures import KEYS, total, unit_figures


def test_a_unit_first_record_of_a_document_is_not_a_duplicate() -> None:
    # unit A: 3 records matched 2 documents; unit B: 1 record of a document A had first
    a = unit_figures({"document": 2, "duplicate": 1, "quarantined": 1}, (3, 2), {"delivered": 2})
    b = unit_figures({"duplicate": 1}, (1, 1), {"pending": 1})
    assert (a["documents"], a["duplicates"], a["received"]) == (2, 1, 4)
    assert (b["documents"], b["duplicates"], b["pending"]) == (1, 0, 1)
    both = total([a, b])
    assert (both["documents"], both["duplicates"]) == (3, 1)
    assert both["received"] == 5 and both["quarantined"] == 1 and both["delivered"] == 2


def test_received_is_documents_duplicates_and_the_rest() -> None:
    one = unit_figures(
        {"document": 2, "duplicate": 3, "revision": 1, "waiting": 1, "unprocessed": 2},
        (5, 2),
        {},
    )
    parts = ("documents", "duplicates", "revisions", "quarantined", "waiting", "unprocessed")
    assert one["received"] == sum(one[k] for k in parts)


def test_total_of_nothing_is_zero_for_every_key() -> None:
    assert total([]) == dict.fromkeys(KEYS, 0)
