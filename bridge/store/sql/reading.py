"""What people read: counters for /status, search, a document's history, quarantine."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bridge.domain.enums import DocumentState
from bridge.domain.search import EXACT, PARTIAL, FoundDocument, search_patterns
from bridge.interfaces import Operation
from bridge.store.sql.base import DOCUMENT_COLS, SqlBase, document_row


class Reading(SqlBase):
    """Read-only queries for /status, the page and the CLI (long ones off the hot path)."""

    async def counts(self) -> dict[str, Any]:
        db = self._scan()
        outcomes = "SELECT coalesce(outcome, 'unprocessed'), count(*) FROM records GROUP BY 1"
        per_source = "SELECT source, count(*) FROM records GROUP BY 1"
        per_sink: dict[str, dict[str, int]] = {}
        for sink, state, n in await db.fetch(
            "SELECT sink, state, count(*) FROM outbox"
            f" WHERE op = '{Operation.CREATE}' GROUP BY 1, 2"
        ):
            per_sink.setdefault(sink, {})[state] = n
        docs = await db.fetchval(
            f"SELECT count(*) FROM documents WHERE state != '{DocumentState.MERGED}'"
        )
        return {
            "outcomes": {r[0]: r[1] for r in await db.fetch(outcomes)},
            "per_source": {r[0]: r[1] for r in await db.fetch(per_source)},
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
        units: Collection[str] | None = None,
    ) -> list[FoundDocument]:
        clauses = ["TRUE" if state else f"state != '{DocumentState.MERGED}'"]
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        rank = str(EXACT)
        patterns = search_patterns(q) if q else None
        if patterns:
            exact = arg(patterns[1])
            rank = (
                f"(CASE WHEN ' ' || search_key || ' ' LIKE {exact} ESCAPE '\\'"
                f" THEN {EXACT} ELSE {PARTIAL} END)"
            )
            clauses.append(f"search_key LIKE {arg(patterns[0])} ESCAPE '\\'")
        if unit:
            clauses.append(f"id IN (SELECT document_id FROM records WHERE unit = {arg(unit)})")
        if units is not None:
            listed = ", ".join(arg(u) for u in sorted(units)) or "NULL"
            clauses.append(f"id IN (SELECT document_id FROM records WHERE unit IN ({listed}))")
        if state:
            clauses.append(f"state = {arg(state)}")
        if before:
            r, i = arg(before_rank), arg(before)
            clauses.append(f"({rank} > {r} OR ({rank} = {r} AND id < {i}))")
        rows = await self._scan().fetch(
            f"SELECT {DOCUMENT_COLS}, {rank} AS hit_rank FROM documents"
            f" WHERE {' AND '.join(clauses)} ORDER BY hit_rank, id DESC LIMIT {arg(limit)}",
            args,
        )
        return [FoundDocument(**vars(document_row(r)), exact=int(r[10]) == EXACT) for r in rows]

    async def revisions_of(self, doc_id: int) -> list[dict[str, Any]]:
        rows = await self._read().fetch(
            "SELECT revision, record_id, created_at FROM revisions WHERE document_id = $1"
            " ORDER BY revision",
            (doc_id,),
        )
        return [{"revision": r[0], "record_id": r[1], "created_at": r[2]} for r in rows]

    async def quarantined(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self._scan().fetch(
            "SELECT q.id, q.record_id, q.kind, q.reason, q.created_at, r.source, r.external_id,"
            " r.unit FROM quarantine q JOIN records r ON r.id = q.record_id"
            " WHERE q.released_at IS NULL ORDER BY q.id DESC LIMIT $1",
            (limit,),
        )
        keys = ("id", "record_id", "kind", "reason", "created_at", "source", "external_id", "unit")
        return [dict(zip(keys, r, strict=True)) for r in rows]
