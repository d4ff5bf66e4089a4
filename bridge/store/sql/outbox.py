"""The outbox: what is due for a sink, what was sent, what failed, dead letters.

Where the dialect claims (PostgreSQL, several instances) `due_deliveries` claims the rows it
picks for this instance and recording an attempt's result lets the claim go; a claim lapses
after the store's `claim_ttl_s`, so a dead instance's rows come back.
"""

from __future__ import annotations

import time
from typing import Any

from bridge.domain.entities import Delivery
from bridge.domain.enums import DeliveryState as State
from bridge.interfaces import Operation
from bridge.store.sql.base import DELIVERY_COLS, SqlBase, delivery_row, dumps, now_iso

# A delivery waits while an earlier one of the same (document, unit, sink) is not done, so
# updates and revocations reach the sink after the create, in order.
_DUE = (
    f"o.sink = $1 AND o.state = '{State.PENDING}' AND o.next_attempt_at <= $2"
    " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.document_id = o.document_id"
    " AND e.unit = o.unit AND e.sink = o.sink AND e.id < o.id"
    f" AND e.state IN ('{State.PENDING}', '{State.DEAD}'))"
)


class Outbox(SqlBase):
    """Delivery rows, one per operation a document owes a sink."""

    async def due_deliveries(
        self, sink: str, limit: int, now: float | None = None
    ) -> list[Delivery]:
        now = time.time() if now is None else now
        rows = await self._due("outbox", "outbox_pending", DELIVERY_COLS, _DUE, (sink, now, limit))
        return sorted((delivery_row(r) for r in rows), key=lambda d: d.id)

    async def due_deliveries_of(
        self, sink: str, document_id: int, now: float | None = None
    ) -> list[Delivery]:
        now = time.time() if now is None else now
        where = f"o.document_id = {int(document_id)} AND {_DUE}"
        rows = await self._due("outbox", "outbox_document", DELIVERY_COLS, where, (sink, now, 8))
        return sorted((delivery_row(r) for r in rows), key=lambda d: d.id)

    async def next_due_at(self, sink: str, after: float) -> float | None:
        value = await self._read().fetchval(
            f"SELECT min(next_attempt_at) FROM outbox{self.dialect.indexed_by('outbox_pending')}"
            f" WHERE sink = $1 AND state = '{State.PENDING}' AND next_attempt_at > $2",
            (sink, after),
        )
        return None if value is None else float(value)

    async def remote_id(self, doc_id: int, unit: str, sink: str) -> str | None:
        value = await self._read().fetchval(
            "SELECT remote_id FROM outbox WHERE document_id = $1 AND unit = $2 AND sink = $3"
            f" AND op = '{Operation.CREATE}' AND state = '{State.DELIVERED}' ORDER BY id LIMIT 1",
            (doc_id, unit, sink),
        )
        return None if value is None else str(value)

    async def store_body(self, delivery_id: int, body: dict[str, Any]) -> bool:
        changed = await self._write_soon(
            "UPDATE outbox SET body = $1 WHERE id = $2 AND body IS NULL"
            f" AND state = '{State.PENDING}'",
            (dumps(body), delivery_id),
        )
        return changed == 1

    async def mark_delivered(self, delivery_id: int, remote_id: str) -> None:
        await self._write_soon(
            f"UPDATE outbox SET state = '{State.DELIVERED}', remote_id = $1, done_at = $2,"
            f" attempts = attempts + 1, last_error = NULL{self.dialect.release} WHERE id = $3",
            (remote_id, now_iso(), delivery_id),
        )

    async def schedule_retry(self, delivery_id: int, at: float, error: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1,"
                f" last_error = $2{self.dialect.release} WHERE id = $3",
                (at, error, delivery_id),
            )

    async def mark_dead(self, delivery_id: int, reason: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                f"UPDATE outbox SET state = '{State.DEAD}', attempts = attempts + 1,"
                f" last_error = $1, done_at = $2{self.dialect.release} WHERE id = $3",
                (reason, now_iso(), delivery_id),
            )

    async def replay(self, delivery_id: int | None, actor: str) -> int:
        async with self._tx() as conn:
            count = await conn.execute(
                f"UPDATE outbox SET state = '{State.PENDING}', attempts = 0, next_attempt_at = 0"
                f"{self.dialect.release} WHERE state = '{State.DEAD}'"
                " AND ($1::bigint IS NULL OR id = $1)",
                (delivery_id,),
            )
            target = str(delivery_id or "all")
            await self._audit(conn, actor, "replay", target, {"count": count})
            return count

    async def dead_letters(self, limit: int = 200) -> list[Delivery]:
        rows = await self._scan().fetch(
            f"SELECT {DELIVERY_COLS} FROM outbox o WHERE state = '{State.DEAD}'"
            " ORDER BY id LIMIT $1",
            (limit,),
        )
        return [delivery_row(r) for r in rows]

    async def deliveries_of(self, doc_id: int) -> list[Delivery]:
        rows = await self._read().fetch(
            f"SELECT {DELIVERY_COLS} FROM outbox o WHERE document_id = $1 ORDER BY id", (doc_id,)
        )
        return [delivery_row(r) for r in rows]

    async def last_sink_errors(self) -> dict[str, str]:
        rows = await self._scan().fetch(
            "SELECT sink, last_error FROM outbox WHERE last_error IS NOT NULL"
            f" AND state != '{State.DELIVERED}' ORDER BY id"
        )
        return {r[0]: r[1] for r in rows}

    async def release_parked_deliveries(self, sink: str, now: float | None = None) -> int:
        return await self._release_parked("outbox", "sink", sink, now)

    async def release_parked_status(self, source: str, now: float | None = None) -> int:
        return await self._release_parked("status_out", "source", source, now)

    async def _release_parked(self, table: str, column: str, name: str, now: float | None) -> int:
        """Pending rows of `table` for `name` that wait for a later try are due at `now`."""
        now = time.time() if now is None else now
        async with self._tx() as conn:
            return await conn.execute(
                f"UPDATE {table} SET next_attempt_at = $1 WHERE {column} = $2"
                f" AND state = '{State.PENDING}' AND next_attempt_at > $1",
                (now, name),
            )
