"""PostgreSQL: the matcher's queries for records held for review (a mail naming no number or
date), and the outbox rows a matching decision enqueues."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from bridge import jsonutil
from bridge.store.pg_base import Connection, PgBase
from bridge.store.sqlite import CORRECT, now_iso
from schemas import Document


class PgHeld(PgBase):
    """held_for_review / merge_held, with the semantics of SqliteStore's block of that name."""

    async def held_for_review(self) -> list[tuple[int, str, list[str], dict[str, Any]]]:
        """Records held for review that name files: (record id, unit, SHA-256s, provenance),
        as the matcher wrote them into the hold's decision."""
        rows = await self._fetch(
            "SELECT r.id, r.unit, r.decision::text FROM quarantine q"
            " JOIN records r ON r.id = q.record_id WHERE q.kind = 'review'"
            " AND q.released_at IS NULL AND r.outcome = 'quarantined' ORDER BY r.id"
        )
        held = []
        for record_id, unit, text in rows:
            why = jsonutil.loads(text) if text else {}
            shas, prov = why.get("attachments"), why.get("provenance")
            if shas and isinstance(prov, dict):
                held.append((int(record_id), str(unit), list(shas), prov))
        return held

    async def merge_held(
        self,
        record_id: int,
        document_id: int,
        document: Document,
        decision: dict[str, Any],
        deliveries: Iterable[tuple[str, str, str, int]],
    ) -> bool:
        """A record held for review joins `document_id` (its files are that document's): it
        leaves quarantine as a duplicate, the document gains its provenance, and its unit's
        sinks get the document. False (and nothing done) when it is no longer held."""
        async with self._tx() as conn:
            released = await conn.fetchval(
                "UPDATE quarantine SET released_at = $1 WHERE record_id = $2 AND kind = 'review'"
                " AND released_at IS NULL RETURNING 1",
                now_iso(),
                record_id,
            )
            if released is None:
                return False
            await conn.execute(
                "UPDATE records SET outcome = 'duplicate', document_id = $1, decision = $2"
                " WHERE id = $3",
                document_id,
                jsonutil.dumps(decision).decode(),
                record_id,
            )
            await conn.execute(
                "UPDATE documents SET data = $1, updated_at = $2 WHERE id = $3",
                document.model_dump_json(),
                now_iso(),
                document_id,
            )
            await enqueue(conn, document_id, deliveries)
            return True


async def enqueue(
    conn: Connection,
    doc_id: int,
    deliveries: Iterable[tuple[str, str, str, int]],
    note: str | None = None,
) -> None:
    """One outbox row per (unit, sink, op, revision); an update, revocation or correction only
    where a create exists that was not cancelled (nothing at the sink to change otherwise).
    Each correction is a row of its own, numbered in its `revision` column, with `note`."""
    stamp = now_iso()
    for unit, sink, op, revision in deliveries:
        if op != "create":
            created = await conn.fetchval(
                "SELECT state FROM outbox WHERE document_id = $1 AND unit = $2 AND sink = $3"
                " AND op = 'create' ORDER BY id LIMIT 1",
                doc_id,
                unit,
                sink,
            )
            if created is None or created == "cancelled":
                continue
        if op == CORRECT:
            revision = 1 + await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE document_id = $1 AND unit = $2 AND sink = $3"
                " AND op = $4",
                doc_id,
                unit,
                sink,
                op,
            )
        await conn.execute(
            "INSERT INTO outbox (document_id, unit, sink, op, revision, key, created_at, note)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
            doc_id,
            unit,
            sink,
            op,
            revision,
            str(uuid.uuid4()),
            stamp,
            note if op == CORRECT else None,
        )
