"""PostgreSQL: processing status reported by home systems, and status owed back to senders.

`due_status` claims its rows like `due_deliveries` does, so two instances never send the same
status message at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from bridge import jsonutil
from bridge.store.base import StatusOut, StatusReply
from bridge.store.pg_base import Connection, PgBase
from bridge.store.sqlite import (
    FINAL_STATUSES,
    HOME_STATUS_CODES,
    HOME_STATUS_ORDER,
    home_reply,
    now_iso,
)
from schemas import StatusEvent

_RELEASE = "claimed_by = NULL, claimed_until = NULL"


class PgStatus(PgBase):
    """status_events (from home systems) and status_out (to senders)."""

    async def save_status_events(self, events: Sequence[StatusEvent]) -> int:
        """Store status reports from home systems; a repeat of the same status is ignored."""
        async with self._tx() as conn:
            added = 0
            for e in events:
                doc_id = await conn.fetchval(
                    "SELECT document_id FROM outbox WHERE sink = $1 AND remote_id = $2"
                    " ORDER BY id LIMIT 1",
                    e.sink,
                    e.remote_id,
                )
                inserted = await conn.fetchval(
                    "INSERT INTO status_events (document_id, sink, remote_id, status, note,"
                    " updated_at) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING RETURNING 1",
                    doc_id,
                    e.sink,
                    e.remote_id,
                    e.status.value,
                    e.note,
                    e.updated_at.isoformat(),
                )
                if inserted is None:
                    continue
                added += 1
                if e.status.value in FINAL_STATUSES:
                    await conn.execute(
                        "UPDATE outbox SET status_final = 1 WHERE sink = $1 AND remote_id = $2",
                        e.sink,
                        e.remote_id,
                    )
                if doc_id is not None and e.status.value in HOME_STATUS_CODES:
                    await self._mirror_status(conn, doc_id, e.status.value, e.note)
            return added

    async def _mirror_status(
        self, conn: Connection, doc_id: int, status: str, note: str | None
    ) -> None:
        """Owe every edXML sender of the document the status its home system reported."""
        records = await conn.fetch(
            "SELECT id, source, unit FROM records WHERE document_id = $1"
            " AND outcome IN ('document', 'duplicate', 'revision')"
            " AND id IN (SELECT record_id FROM status_out) ORDER BY id",
            doc_id,
        )
        for record_id, source, unit in records:
            await _owe_home_status(conn, record_id, source, unit, status, note)

    async def _owe_reported(self, conn: Connection, doc_id: int, record_id: int) -> None:
        """A road that joins a document late: its sender is owed every status the home system
        already reported, after its 01 and in the order a document moves through at home
        (a code owed to it once is never owed again)."""
        events = await conn.fetch(
            "SELECT status, note, id FROM status_events WHERE document_id = $1 ORDER BY id",
            doc_id,
        )
        reported = sorted(
            (e for e in events if e[0] in HOME_STATUS_CODES),
            key=lambda e: (HOME_STATUS_ORDER[e[0]], e[2]),
        )
        row = await conn.fetchrow("SELECT source, unit FROM records WHERE id = $1", record_id)
        if row is None:
            return
        for status, note, _ in reported:
            await _owe_home_status(conn, record_id, row[0], row[1], status, note)

    async def _enqueue_status(
        self, conn: Connection, record_id: int, replies: Iterable[StatusReply]
    ) -> None:
        replies = list(replies)
        if not replies:
            return
        source = await conn.fetchval("SELECT source FROM records WHERE id = $1", record_id)
        for reply in replies:
            await _insert_status(conn, record_id, source, reply)

    async def due_status(
        self, source: str, limit: int = 50, now: float | None = None
    ) -> list[StatusOut]:
        """Status messages owed to `source`'s senders whose time has come, claimed for us."""
        now = time.time() if now is None else now
        async with self._tx() as conn:
            rows = await conn.fetch(
                "WITH due AS (SELECT id FROM status_out WHERE source = $1 AND state = 'pending'"
                " AND next_attempt_at <= $2"
                " AND (claimed_until IS NULL OR claimed_until <= $2 OR claimed_by = $4)"
                " ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)"
                " UPDATE status_out s SET claimed_by = $4, claimed_until = $2 + $5::float8"
                " FROM due WHERE s.id = due.id RETURNING s.id, s.record_id, s.source, s.code,"
                " s.description, s.from_organ, s.to_organ::text, s.ref::text, s.attempts",
                source,
                now,
                limit,
                self.instance,
                self.claim_ttl_s,
            )
        return sorted(
            (
                StatusOut(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    jsonutil.loads(r[6]),
                    jsonutil.loads(r[7]),
                    r[8],
                )
                for r in rows
            ),
            key=lambda s: s.id,
        )

    async def status_sent(self, status_id: int, sent_id: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE status_out SET state = 'sent', sent_id = $1, sent_at = $2,"
                f" attempts = attempts + 1, {_RELEASE} WHERE id = $3",
                sent_id,
                now_iso(),
                status_id,
            )

    async def status_failed(self, status_id: int, error: str, retry_at: float | None) -> None:
        """Retry at `retry_at`, or give up (state dead) when it is None."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE status_out SET attempts = attempts + 1, last_error = $1,"
                " next_attempt_at = $2, state = CASE WHEN $3 THEN 'pending' ELSE 'dead' END,"
                f" {_RELEASE} WHERE id = $4",
                error,
                retry_at or 0,
                retry_at is not None,
                status_id,
            )

    async def statuses_of(self, doc_id: int) -> dict[str, list[dict[str, Any]]]:
        """Status reported by home systems and status sent back to senders, for one document."""
        home = await self._fetch(
            "SELECT sink, status, note, updated_at FROM status_events WHERE document_id = $1"
            " ORDER BY id",
            doc_id,
        )
        sent = await self._fetch(
            "SELECT s.source, s.code, s.description, s.state, s.sent_at, s.last_error"
            " FROM status_out s JOIN records r ON r.id = s.record_id WHERE r.document_id = $1"
            " ORDER BY s.id",
            doc_id,
        )
        return {
            "home": [
                {"sink": r[0], "status": r[1], "note": r[2], "updated_at": r[3]} for r in home
            ],
            "sent": [
                {
                    "source": r[0],
                    "code": r[1],
                    "description": r[2],
                    "state": r[3],
                    "sent_at": r[4],
                    "last_error": r[5],
                }
                for r in sent
            ],
        }

    async def status_pollable(
        self, sink: str, after: int = 0, limit: int = 50
    ) -> list[tuple[int, str]]:
        """(delivery id, remote id) of documents at `sink` whose processing is not finished
        yet, in delivery order from after `after` (a poller's place in its round)."""
        rows = await self._fetch(
            "SELECT id, remote_id FROM outbox WHERE sink = $1 AND op = 'create'"
            " AND state = 'delivered' AND status_final = 0 AND id > $2 ORDER BY id LIMIT $3",
            sink,
            after,
            limit,
        )
        return [(r[0], r[1]) for r in rows]

    async def is_done_at_home(self, doc_id: int) -> bool:
        found = await self._fetchval(
            "SELECT 1 FROM status_events WHERE document_id = $1 AND status = 'done' LIMIT 1",
            doc_id,
        )
        return found is not None


async def _owe_home_status(
    conn: Connection, record_id: int, source: str, unit: str, status: str, note: str | None
) -> None:
    """Owe the sender of a record the home status `status`, naming the document as its first
    status message to that sender did (as the sender wrote it)."""
    first = await conn.fetchrow(
        "SELECT to_organ::text, ref::text FROM status_out WHERE record_id = $1 ORDER BY id LIMIT 1",
        record_id,
    )
    if first is None:
        return
    to_organ, ref = jsonutil.loads(first[0]), jsonutil.loads(first[1])
    await _insert_status(conn, record_id, source, home_reply(unit, to_organ, ref, status, note))


async def _insert_status(conn: Connection, record_id: int, source: str, reply: StatusReply) -> None:
    await conn.execute(
        "INSERT INTO status_out (record_id, source, code, description, from_organ, to_organ,"
        " ref, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
        record_id,
        source,
        reply.code,
        reply.description,
        reply.from_organ,
        jsonutil.dumps(reply.to_organ).decode(),
        jsonutil.dumps(reply.ref).decode(),
        now_iso(),
    )
