"""What an operator's units reach: the unit of a quarantined record or of a delivery, the units
of a document, and the counts /status shows an operator who sees only some units."""

from __future__ import annotations

from bridge.store.sql.base import SqlBase


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
