"""The shared store: PostgreSQL through asyncpg, for several instances on one database.

Same public methods, semantics and return types as `SqliteStore`; the parts live in
`pg_base` (pool, transactions, migrations, fencing), `pg_outbox` (deliveries and status owed
to senders, with claims), `pg_operator` (merge, split, release, audit), `pg_reading` (what people read),
`pg_retention` (purging), `pg_leases` (source leases) and `pg_held` (records held for review).
This module holds records, cursors, documents and the matching decision.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

from bridge import jsonutil
from bridge.store.base import DocumentRow, Outcome, StoredRecord
from bridge.store.pg_base import Connection, check_fence
from bridge.store.pg_held import PgHeld, enqueue
from bridge.store.pg_leases import PgLeases
from bridge.store.pg_migrations import MIGRATIONS_PG
from bridge.store.pg_operator import PgOperator
from bridge.store.pg_outbox import PgOutbox
from bridge.store.pg_reading import PgReading
from bridge.store.pg_retention import PgRetention
from bridge.store.search import search_key
from bridge.store.sqlite import JOINED, _document, _record, now_iso
from schemas import Page, RawRecord

_RECORD_COLS = (
    "id, source, unit, external_id, version, media_type, payload, attachments::text, ack,"
    " error, received_at, acked, outcome, document_id, decision::text, released"
)
_DOCUMENT_COLS = (
    "id, triple, issuer_code, issuer_key, state, revision, data::text, conflicts::text,"
    " created_at, updated_at"
)

__all__ = ["MIGRATIONS_PG", "PostgresStore", "check_fence", "open_postgres"]


def open_postgres(
    url: str, *, instance: str | None = None, claim_ttl_s: float | None = None
) -> PostgresStore:
    """The PostgreSQL store a `postgresql://…` database URL names (not yet opened).

    `claim_ttl_s` (default 300 s): how long a delivery claimed by this instance stays reserved;
    follow the lease time, so a dead instance's deliveries come back as soon as its sources do.
    """
    if claim_ttl_s is None:
        return PostgresStore(url, instance=instance)
    return PostgresStore(url, instance=instance, claim_ttl_s=claim_ttl_s)


class PostgresStore(PgOutbox, PgOperator, PgReading, PgRetention, PgLeases, PgHeld):
    """All SQL of the shared backend, behind methods that speak the domain.

    `instance` names this process in delivery claims; `claim_ttl_s` is how long a claimed
    delivery stays reserved for it before another instance may take it over.
    """

    # ---- records and cursors -------------------------------------------------------------

    async def save_page(
        self, source: str, page: Page, *, fence: tuple[str, int] | None = None
    ) -> list[int]:
        """Store every record of a page and the page's cursor in one transaction.

        Returns the ids of records seen for the first time; a re-read is ignored. With
        `fence` (resource, token) nothing is written unless the token is still current.
        """
        async with self._tx(fence) as conn:
            new_ids = await _insert_records(conn, page.records)
            if page.cursor is not None:
                await conn.execute(
                    "INSERT INTO cursors (source, cursor, updated_at) VALUES ($1, $2, $3)"
                    " ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor,"
                    " updated_at = excluded.updated_at",
                    source,
                    page.cursor,
                    now_iso(),
                )
        return new_ids

    async def save_records(
        self, records: Sequence[RawRecord], *, fence: tuple[str, int] | None = None
    ) -> list[int]:
        async with self._tx(fence) as conn:
            return await _insert_records(conn, records)

    async def get_cursor(self, source: str) -> str | None:
        value = await self._fetchval("SELECT cursor FROM cursors WHERE source = $1", source)
        return None if value is None else str(value)

    async def unacked(self, source: str, limit: int = 500) -> list[StoredRecord]:
        rows = await self._fetch(
            f"SELECT {_RECORD_COLS} FROM records WHERE source = $1 AND NOT acked"
            " ORDER BY id LIMIT $2",
            source,
            limit,
        )
        return [_record(r) for r in rows]

    async def mark_acked(
        self,
        source: str,
        unit: str,
        external_id: str,
        version: str,
        *,
        fence: tuple[str, int] | None = None,
    ) -> None:
        async with self._tx(fence) as conn:
            await conn.execute(
                "UPDATE records SET acked = TRUE WHERE source = $1 AND unit = $2"
                " AND external_id = $3 AND version = $4",
                source,
                unit,
                external_id,
                version,
            )

    async def mark_acked_many(
        self, keys: Sequence[tuple[str, str, str, str]], *, fence: tuple[str, int] | None = None
    ) -> None:
        """Mark (source, unit, external_id, version) records acknowledged, in one transaction."""
        async with self._tx(fence) as conn:
            await conn.executemany(
                "UPDATE records SET acked = TRUE WHERE source = $1 AND unit = $2"
                " AND external_id = $3 AND version = $4",
                keys,
            )

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Group commit on SQLite; on PostgreSQL each write keeps its own transaction."""
        yield

    async def unprocessed(self, limit: int = 200) -> list[StoredRecord]:
        rows = await self._fetch(
            f"SELECT {_RECORD_COLS} FROM records WHERE outcome IS NULL ORDER BY id LIMIT $1",
            limit,
        )
        return [_record(r) for r in rows]

    async def waiting(self, limit: int = 500) -> list[StoredRecord]:
        """Revisions and revocations whose target document has not arrived yet."""
        rows = await self._fetch(
            f"SELECT {_RECORD_COLS} FROM records WHERE outcome = 'waiting' ORDER BY id LIMIT $1",
            limit,
        )
        return [_record(r) for r in rows]

    async def record(self, record_id: int) -> StoredRecord | None:
        rows = await self._fetch(f"SELECT {_RECORD_COLS} FROM records WHERE id = $1", record_id)
        return _record(rows[0]) if rows else None

    async def records_of(self, doc_id: int) -> list[StoredRecord]:
        rows = await self._fetch(
            f"SELECT {_RECORD_COLS} FROM records WHERE document_id = $1 ORDER BY id", doc_id
        )
        return [_record(r) for r in rows]

    async def remember_event(self, name: str, event_id: str) -> bool:
        """Record a webhook event id; False when it was seen before (a repeat to ignore)."""
        async with self._tx() as conn:
            inserted = await conn.fetchval(
                "INSERT INTO hook_events VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
                name,
                event_id,
                now_iso(),
            )
            return inserted is not None

    # ---- documents and matching ----------------------------------------------------------

    async def documents_by_triple(self, triple: str) -> list[DocumentRow]:
        rows = await self._fetch(
            f"SELECT {_DOCUMENT_COLS} FROM documents WHERE triple = $1 AND state != 'merged'"
            " ORDER BY id",
            triple,
        )
        return [_document(r) for r in rows]

    async def documents_by_attachment(self, sha256s: Iterable[str]) -> list[DocumentRow]:
        shas = sorted(set(sha256s))
        if not shas:
            return []
        rows = await self._fetch(
            f"SELECT {_DOCUMENT_COLS} FROM documents WHERE id IN"
            " (SELECT document_id FROM attachment_index WHERE sha256 = ANY($1::text[]))"
            " AND state != 'merged' ORDER BY id",
            shas,
        )
        return [_document(r) for r in rows]

    async def document(self, document_id: int) -> DocumentRow | None:
        rows = await self._fetch(
            f"SELECT {_DOCUMENT_COLS} FROM documents WHERE id = $1", document_id
        )
        return _document(rows[0]) if rows else None

    async def apply(self, outcome: Outcome, *, fence: tuple[str, int] | None = None) -> int | None:
        """Apply one matching decision and all its consequences atomically.

        Returns the document id the record ended up with (None when quarantined apart, or
        when the record was decided already: a decision is applied once). With `fence`, refused
        (StaleLeaseError) once the matching lease has passed to another instance.
        """
        async with self._tx(fence) as conn:
            claimed = await conn.execute(
                "UPDATE records SET outcome = $1 WHERE id = $2 AND (outcome IS NULL OR outcome = 'waiting')",
                outcome.outcome,
                outcome.record_id,
            )
            if not claimed.endswith(" 1"):
                return None  # decided already (by an instance whose lease we took over)
            doc_id = outcome.document_id
            if outcome.new_document is not None:
                doc_id = await _insert_document(conn, outcome)
            elif doc_id is not None and outcome.updated_document is not None:
                await _update_document(conn, doc_id, outcome)
            if doc_id is not None and outcome.conflict is not None:
                await conn.execute(
                    "UPDATE documents SET conflicts = conflicts || jsonb_build_array($2::jsonb)"
                    " WHERE id = $1",
                    doc_id,
                    jsonutil.dumps(outcome.conflict).decode(),
                )
            if outcome.quarantine is not None:
                await _quarantine(conn, outcome.record_id, *outcome.quarantine)
            if doc_id is not None and outcome.cancel_pending_creates:
                await conn.execute(
                    "UPDATE outbox SET state = 'cancelled', done_at = $1 WHERE document_id = $2"
                    " AND op = 'create' AND state = 'pending' AND body IS NULL",
                    now_iso(),
                    doc_id,
                )
            if doc_id is not None:
                await enqueue(conn, doc_id, outcome.deliveries, outcome.correction_note)
            await self._enqueue_status(conn, outcome.record_id, outcome.status_replies)
            if doc_id is not None and outcome.status_replies and outcome.outcome in JOINED:
                await self._owe_reported(conn, doc_id, outcome.record_id)
            await conn.execute(
                "UPDATE records SET outcome = $1, document_id = $2, decision = $3 WHERE id = $4",
                outcome.outcome,
                doc_id,
                jsonutil.dumps(outcome.decision).decode(),
                outcome.record_id,
            )
            return doc_id

    async def sinks_holding(self, doc_id: int) -> list[tuple[str, str]]:
        rows = await self._fetch(
            "SELECT DISTINCT unit, sink FROM outbox WHERE document_id = $1 AND op = 'create'"
            " AND state != 'cancelled'",
            doc_id,
        )
        return [(r[0], r[1]) for r in rows]


async def _insert_records(conn: Connection, records: Sequence[RawRecord]) -> list[int]:
    new_ids: list[int] = []
    for r in records:
        new_id = await conn.fetchval(
            "INSERT INTO records (source, unit, external_id, version, media_type, payload,"
            " attachments, ack, error, received_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
            " ON CONFLICT DO NOTHING RETURNING id",
            r.source,
            r.unit,
            r.external_id,
            r.version,
            r.media_type,
            r.payload,
            jsonutil.dumps([a.model_dump(mode="json") for a in r.attachments]).decode(),
            r.ack,
            r.error,
            r.received_at.isoformat(),
        )
        if new_id is not None:
            new_ids.append(int(new_id))
    return new_ids


async def _insert_document(conn: Connection, outcome: Outcome) -> int:
    new = outcome.new_document
    assert new is not None
    stamp = now_iso()
    data = new.document.model_dump_json()
    doc_id = int(
        await conn.fetchval(
            "INSERT INTO documents (triple, issuer_code, issuer_key, fallback, state, revision,"
            " data, created_at, updated_at, search_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
            " RETURNING id",
            new.triple,
            new.issuer_code,
            new.issuer_key,
            new.fallback,
            new.document.state.value,
            new.document.revision,
            data,
            stamp,
            stamp,
            search_key(new.document),
        )
    )
    await _index_attachments(conn, doc_id, (a.sha256 for a in new.document.attachments))
    await conn.execute(
        "INSERT INTO revisions VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
        doc_id,
        new.document.revision,
        outcome.record_id,
        data,
        stamp,
    )
    return doc_id


async def _update_document(conn: Connection, doc_id: int, outcome: Outcome) -> None:
    doc = outcome.updated_document
    assert doc is not None
    stamp = now_iso()
    data = doc.model_dump_json()
    await conn.execute(
        "UPDATE documents SET data = $1, state = $2, revision = $3, updated_at = $4,"
        " search_key = $6 WHERE id = $5",
        data,
        doc.state.value,
        doc.revision,
        stamp,
        doc_id,
        search_key(doc),
    )
    await _index_attachments(conn, doc_id, (a.sha256 for a in doc.attachments))
    if outcome.outcome == "revision":
        await conn.execute(
            "INSERT INTO revisions VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
            doc_id,
            doc.revision,
            outcome.record_id,
            data,
            stamp,
        )


async def _index_attachments(conn: Connection, doc_id: int, shas: Iterable[str]) -> None:
    await conn.executemany(
        "INSERT INTO attachment_index VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(sha, doc_id) for sha in shas],
    )


async def _quarantine(conn: Connection, record_id: int, kind: str, reason: str) -> None:
    await conn.execute(
        "INSERT INTO quarantine (record_id, kind, reason, created_at) VALUES ($1,$2,$3,$4)"
        " ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind,"
        " reason = excluded.reason, released_at = NULL",
        record_id,
        kind,
        reason,
        now_iso(),
    )
