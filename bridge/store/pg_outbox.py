"""The PostgreSQL outbox: deliveries claimed by one instance at a time, retries, dead letters.

`due_deliveries` locks the rows it picks with `FOR UPDATE SKIP LOCKED` and stamps them
`claimed_by`/`claimed_until` in the same statement, so two instances never attempt the same
delivery at once; a claim lapses after `claim_ttl_s`, so a dead instance's rows come back.
Recording the attempt's result (delivered, retry, dead) releases the claim.
"""

from __future__ import annotations

import time
from typing import Any

from bridge import jsonutil
from bridge.store.base import Delivery
from bridge.store.pg_status import PgStatus
from bridge.store.sqlite import _delivery, now_iso

_DELIVERY_COLS = (
    "id, document_id, unit, sink, op, revision, key, body::text, state, attempts,"
    " next_attempt_at, last_error, remote_id, created_at, note"
)
_RELEASE = "claimed_by = NULL, claimed_until = NULL"


class PgOutbox(PgStatus):
    """Delivery rows: what is due, what was sent, what failed."""

    async def due_deliveries(
        self, sink: str, limit: int, now: float | None = None
    ) -> list[Delivery]:
        """Pending deliveries for `sink` whose time has come, oldest first, claimed for us.

        A delivery waits while an earlier one of the same (document, unit, sink) is not done,
        so updates and revocations reach the sink after the create, in order. Rows another
        live instance claimed are skipped; our own claims are offered again (so rows a worker
        left untried are not held for a whole TTL), which is why each instance runs one caller
        per sink at a time, as the delivery worker does.
        """
        now = time.time() if now is None else now
        async with self._tx() as conn:
            rows = await conn.fetch(
                "WITH due AS (SELECT o.id FROM outbox o WHERE o.sink = $1"
                " AND o.state = 'pending' AND o.next_attempt_at <= $2"
                " AND (o.claimed_until IS NULL OR o.claimed_until <= $2 OR o.claimed_by = $4)"
                " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.document_id = o.document_id"
                " AND e.unit = o.unit AND e.sink = o.sink AND e.id < o.id"
                " AND e.state IN ('pending', 'dead'))"
                " ORDER BY o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED)"
                " UPDATE outbox SET claimed_by = $4, claimed_until = $2 + $5::float8"
                f" FROM due WHERE outbox.id = due.id RETURNING {_qualified('outbox')}",
                sink,
                now,
                limit,
                self.instance,
                self.claim_ttl_s,
            )
        return sorted((_delivery(r) for r in rows), key=lambda d: d.id)

    async def remote_id(self, doc_id: int, unit: str, sink: str) -> str | None:
        value = await self._fetchval(
            "SELECT remote_id FROM outbox WHERE document_id = $1 AND unit = $2 AND sink = $3"
            " AND op = 'create' AND state = 'delivered' ORDER BY id LIMIT 1",
            doc_id,
            unit,
            sink,
        )
        return None if value is None else str(value)

    async def store_body(self, delivery_id: int, body: dict[str, Any]) -> bool:
        """Keep the prepared body before the first attempt; False when the delivery was
        cancelled meanwhile (then nothing must be sent)."""
        async with self._tx() as conn:
            status = await conn.execute(
                "UPDATE outbox SET body = $1 WHERE id = $2 AND body IS NULL AND state = 'pending'",
                jsonutil.dumps(body).decode(),
                delivery_id,
            )
        return bool(status.endswith(" 1"))

    async def mark_delivered(self, delivery_id: int, remote_id: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outbox SET state = 'delivered', remote_id = $1, done_at = $2,"
                f" attempts = attempts + 1, last_error = NULL, {_RELEASE} WHERE id = $3",
                remote_id,
                now_iso(),
                delivery_id,
            )

    async def schedule_retry(self, delivery_id: int, at: float, error: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1,"
                f" last_error = $2, {_RELEASE} WHERE id = $3",
                at,
                error,
                delivery_id,
            )

    async def mark_dead(self, delivery_id: int, reason: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = $1,"
                f" done_at = $2, {_RELEASE} WHERE id = $3",
                reason,
                now_iso(),
                delivery_id,
            )

    async def replay(self, delivery_id: int | None, actor: str) -> int:
        """Send dead letters again with their original key and body. None replays all."""
        async with self._tx() as conn:
            status = await conn.execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0,"
                f" {_RELEASE} WHERE state = 'dead' AND ($1::bigint IS NULL OR id = $1)",
                delivery_id,
            )
            count = int(status.rsplit(" ", 1)[-1])
            await conn.execute(
                "INSERT INTO audit (at, actor, action, target, detail) VALUES ($1,$2,$3,$4,$5)",
                now_iso(),
                actor,
                "replay",
                str(delivery_id or "all"),
                jsonutil.dumps({"count": count}).decode(),
            )
            return count

    async def dead_letters(self, limit: int = 200) -> list[Delivery]:
        rows = await self._fetch(
            f"SELECT {_DELIVERY_COLS} FROM outbox WHERE state = 'dead' ORDER BY id LIMIT $1",
            limit,
        )
        return [_delivery(r) for r in rows]

    async def deliveries_of(self, doc_id: int) -> list[Delivery]:
        rows = await self._fetch(
            f"SELECT {_DELIVERY_COLS} FROM outbox WHERE document_id = $1 ORDER BY id", doc_id
        )
        return [_delivery(r) for r in rows]

    async def last_sink_errors(self) -> dict[str, str]:
        rows = await self._fetch(
            "SELECT sink, last_error FROM outbox WHERE last_error IS NOT NULL"
            " AND state != 'delivered' ORDER BY id"
        )
        return {r[0]: r[1] for r in rows}

    async def release_parked_deliveries(self, sink: str, now: float | None = None) -> int:
        """`sink` answers again: its pending deliveries waiting for a later try are due now
        (their attempts and claims are kept). Returns how many were brought forward."""
        return await self._release_parked("outbox", "sink", sink, now)

    async def release_parked_status(self, source: str, now: float | None = None) -> int:
        """The axis node of `source` answers again: its status messages waiting for a later
        try are due now (their attempts and claims are kept). Returns how many."""
        return await self._release_parked("status_out", "source", source, now)

    async def _release_parked(self, table: str, column: str, name: str, now: float | None) -> int:
        """Pending rows of `table` for `name` that wait for a later try are due at `now`."""
        now = time.time() if now is None else now
        async with self._tx() as conn:
            status = await conn.execute(
                f"UPDATE {table} SET next_attempt_at = $1 WHERE {column} = $2"
                " AND state = 'pending' AND next_attempt_at > $1",
                now,
                name,
            )
        return int(status.rsplit(" ", 1)[-1])


def _qualified(table: str) -> str:
    return ", ".join(f"{table}.{c.strip()}" for c in _DELIVERY_COLS.split(","))
