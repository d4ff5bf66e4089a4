"""What an operator's units reach: the unit of a quarantined record or of a delivery, the units
of a document, and the counts /status shows an operator who sees only some units."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bridge.domain.enums import DocumentState
from bridge.store.sql.base import SqlBase


def _in(units: Collection[str], first: int = 1) -> str:
    """`($1, $2, …)` for an IN list of `units`, numbered from `first`."""
    return "(" + ", ".join(f"${i}" for i in range(first, first + len(units))) + ")"


class Scope(SqlBase):
    """Which units a row belongs to, for the API's filtering by an operator's units."""

    async def quarantine_unit(self, quarantine_id: int) -> str | None:
        value = await self._read().fetchval(
            "SELECT r.unit FROM quarantine q JOIN records r ON r.id = q.record_id WHERE q.id = $1",
            (quarantine_id,),
        )
        return None if value is None else str(value)

    async def delivery_unit(self, delivery_id: int) -> str | None:
        value = await self._read().fetchval("SELECT unit FROM outbox WHERE id = $1", (delivery_id,))
        return None if value is None else str(value)

    async def document_units(self, document_id: int) -> set[str]:
        """Every unit a document reached: by its records and by its deliveries."""
        rows = await self._read().fetch(
            "SELECT unit FROM records WHERE document_id = $1"
            " UNION SELECT unit FROM outbox WHERE document_id = $1",
            (document_id,),
        )
        return {str(r[0]) for r in rows}

    async def counts_in(self, units: Collection[str]) -> dict[str, Any]:
        """Record outcomes and documents of the records addressed to `units`."""
        db, args = self._scan(), tuple(sorted(units))
        if not args:
            return {"outcomes": {}, "documents": 0}
        outcomes = await db.fetch(
            "SELECT coalesce(outcome, 'unprocessed'), count(*) FROM records"
            f" WHERE unit IN {_in(args)} GROUP BY 1",
            args,
        )
        documents = await db.fetchval(
            "SELECT count(*) FROM documents WHERE id IN (SELECT document_id FROM records"
            f" WHERE unit IN {_in(args)}) AND state != '{DocumentState.MERGED}'",
            args,
        )
        return {"outcomes": {r[0]: r[1] for r in outcomes}, "documents": int(documents)}
