"""Per-unit figures and the totals made of them, so that the units' figures add up.

A document addressed to two units counts once in each unit: it is one register entry in each.
A unit's duplicates are the records of that unit that brought a document the unit already had
(by another road, or again by the same one); the first record of a document in a unit is its
document, not a duplicate, even when another unit had it first. The totals are the key-wise
sums of the units' figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bridge.domain.enums import DeliveryState, RecordOutcome

UNPROCESSED = "unprocessed"
DELIVERY_KEYS = (DeliveryState.DELIVERED, DeliveryState.PENDING, DeliveryState.DEAD)
KEYS = (
    "received",
    "documents",
    "duplicates",
    "revisions",
    "quarantined",
    "waiting",
    UNPROCESSED,
    *(state.value for state in DELIVERY_KEYS),
)


def unit_figures(
    outcomes: Mapping[str, int],
    matched: tuple[int, int],
    deliveries: Mapping[str, int],
) -> dict[str, int]:
    """One unit's figures: `outcomes` counts its records by outcome (`unprocessed` for none);
    `matched` is (records that brought a document or a duplicate of one, distinct documents
    among them); `deliveries` counts its outbox rows (creates) by state."""
    records, documents = matched
    return {
        "received": sum(outcomes.values()),
        "documents": documents,
        "duplicates": records - documents,
        "revisions": outcomes.get(RecordOutcome.REVISION, 0),
        "quarantined": outcomes.get(RecordOutcome.QUARANTINED, 0),
        "waiting": outcomes.get(RecordOutcome.WAITING, 0),
        UNPROCESSED: outcomes.get(UNPROCESSED, 0),
        **{state.value: deliveries.get(state, 0) for state in DELIVERY_KEYS},
    }


def total(figures: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The key-wise sum of units' figures."""
    out = dict.fromkeys(KEYS, 0)
    for one in figures:
        for key in KEYS:
            out[key] += one.get(key, 0)
    return out
