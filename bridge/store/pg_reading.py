"""PostgreSQL: what people read (counters, search, history, quarantine)."""

from __future__ import annotations

from typing import Any

from bridge.store.pg_base import PgBase
from bridge.store.search import EXACT, PARTIAL, FoundDocument, found, search_patterns
from bridge.store.sqlite import _document

_DOCUMENT_COLS = (
    "id, triple, issuer_code, issuer_key, state, revision, data::text, conflicts::text,"
    " created_at, updated_at"
)


class PgReading(PgBase):
    """Read-only queries for /status, the page and the CLI."""

    async def counts(self) -> dict[str, Any]:
        """Counters for /status, per source, per sink and in total."""
        outcomes = {
            r[0]: r[1]
            for r in await self._fetch(
                "SELECT coalesce(outcome, 'unprocessed'), count(*) FROM records GROUP BY 1"
            )
        }
        per_source = {
            r[0]: r[1] for r in await self._fetch("SELECT source, count(*) FROM records GROUP BY 1")
        }
        per_sink: dict[str, dict[str, int]] = {}
        for sink, state, n in await self._fetch(
            "SELECT sink, state, count(*) FROM outbox WHERE op = 'create' GROUP BY 1, 2"
        ):
            per_sink.setdefault(sink, {})[state] = n
        docs = await self._fetchval("SELECT count(*) FROM documents WHERE state != 'merged'")
        return {
            "outcomes": outcomes,
            "per_source": per_source,
            "per_sink": per_sink,
            "documents": int(docs),
        }

    async def search_documents(
        self,
        *,
        unit: str | None,
        q: str | None,
        state: str | None,
        limit: int,
        before: int | None,
        before_rank: int = EXACT,
    ) -> list[FoundDocument]:
        """As SqliteStore.search_documents: exact hits first, then partial, newest first."""
        clauses: list[str] = ["TRUE" if state else "state != 'merged'"]
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        rank = str(EXACT)
        patterns = search_patterns(q) if q else None
        if patterns:
            exact = arg(patterns[1])
            rank = (
                f"(CASE WHEN ' ' || search_key || ' ' LIKE {exact} THEN {EXACT} ELSE {PARTIAL} END)"
            )
            clauses.append(f"search_key LIKE {arg(patterns[0])}")
        if unit:
            clauses.append(f"id IN (SELECT document_id FROM records WHERE unit = {arg(unit)})")
        if state:
            clauses.append(f"state = {arg(state)}")
        if before:
            r, i = arg(before_rank), arg(before)
            clauses.append(f"({rank} > {r} OR ({rank} = {r} AND id < {i}))")
        rows = await self._fetch(
            f"SELECT {_DOCUMENT_COLS}, {rank} AS hit_rank FROM documents"
            f" WHERE {' AND '.join(clauses)} ORDER BY hit_rank, id DESC LIMIT {arg(limit)}",
            *args,
        )
        return [found(_document(r), r[10]) for r in rows]

    async def revisions_of(self, doc_id: int) -> list[dict[str, Any]]:
        rows = await self._fetch(
            "SELECT revision, record_id, created_at FROM revisions WHERE document_id = $1"
            " ORDER BY revision",
            doc_id,
        )
        return [{"revision": r[0], "record_id": r[1], "created_at": r[2]} for r in rows]

    async def quarantined(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self._fetch(
            "SELECT q.id, q.record_id, q.kind, q.reason, q.created_at, r.source, r.external_id,"
            " r.unit"
            " FROM quarantine q JOIN records r ON r.id = q.record_id WHERE q.released_at IS NULL"
            " ORDER BY q.id DESC LIMIT $1",
            limit,
        )
        keys = ("id", "record_id", "kind", "reason", "created_at", "source", "external_id", "unit")
        return [dict(zip(keys, r, strict=True)) for r in rows]
