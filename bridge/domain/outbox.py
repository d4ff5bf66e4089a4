"""Which outbox rows a matching decision makes: the rule the store writes down as it says.

A decision asks for deliveries (unit, sink, operation, revision) of one document. A create is
always owed; an update, revocation or correction only where that sink holds a create that was
not cancelled (otherwise there is nothing at the sink to change). Each correction is a row of
its own, numbered after the corrections already made at that sink, and carries the note that
tells the clerk which road taught which field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bridge.domain.enums import DeliveryState, Operation

Wanted = tuple[str, str, str, int]  # (unit, sink, operation, revision) a decision asks for


@dataclass(frozen=True)
class NewDelivery:
    """One outbox row to add (its key and time are the store's)."""

    unit: str
    sink: str
    op: str
    revision: int
    note: str | None = None


def outbox_rows(
    wanted: Iterable[Wanted],
    existing: Iterable[tuple[str, str, str, str]] = (),
    note: str | None = None,
) -> list[NewDelivery]:
    """The rows to add for `wanted`, given the document's rows so far: `existing` as
    (unit, sink, operation, state), oldest first. Only a wanted row that is not a create needs
    `existing`; a create already there is not added again (the store ignores the repeat)."""
    creates: dict[tuple[str, str], str] = {}
    corrections: Counter[tuple[str, str]] = Counter()
    for unit, sink, op, state in existing:
        if op == Operation.CREATE:
            creates.setdefault((unit, sink), state)
        elif op == Operation.CORRECT:
            corrections[unit, sink] += 1
    rows = []
    for unit, sink, op, revision in wanted:
        if op == Operation.CREATE:
            creates.setdefault((unit, sink), DeliveryState.PENDING)
        elif creates.get((unit, sink), DeliveryState.CANCELLED) == DeliveryState.CANCELLED:
            continue  # nothing at the sink to update, revoke or correct
        if op == Operation.CORRECT:
            corrections[unit, sink] += 1
            revision = corrections[unit, sink]
        rows.append(
            NewDelivery(unit, sink, op, revision, note if op == Operation.CORRECT else None)
        )
    return rows


def needs_existing(wanted: Iterable[Wanted]) -> bool:
    """Whether `outbox_rows` must see the document's rows (most decisions only create)."""
    return any(op != Operation.CREATE for _, _, op, _ in wanted)
