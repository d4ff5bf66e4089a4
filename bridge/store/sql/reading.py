"""What people read: counters for /status, search, a document's history, quarantine."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bridge.domain.enums import DeliveryState, DocumentState, RecordOutcome
from bridge.domain.figures import UNPROCESSED, unit_figures
from bridge.domain.search import EXACT, PARTIAL, FoundDocument, search_patterns
from bridge.interfaces import Operation
from bridge.store.sql.base import DOCUMENT_COLS, SqlBase, document_row, in_params


class Reading(SqlBase):
    """Read-only queries for /status, the page and the CLI (long ones off the hot path)."""

    async def counts(self) -> dict[str, Any]:
        db = self._scan()
        outcomes = "SELECT coalesce(outcome, 'unprocessed'), count(*) FROM records GROUP BY 1"
        per_source_unit = "SELECT source, unit, count(*) FROM records GROUP BY 1, 2"
        per_sink: dict[str, dict[str, int]] = {}
        for sink, state, n in await db.fetch(
            "SELECT sink, state, count(*) FROM outbox"
            f" WHERE op = '{Operation.CREATE}' GROUP BY 1, 2"
        ):
            per_sink.setdefault(sink, {})[state] = n
        docs = await db.fetchval(
            f"SELECT count(*) FROM documents WHERE state != '{DocumentState.MERGED}'"
        )
        by_unit = {(r[0], r[1]): int(r[2]) for r in await db.fetch(per_source_unit)}
        per_source: dict[str, int] = {}
        for (source, _), n in by_unit.items():
            per_source[source] = per_source.get(source, 0) + n
        return {
            "outcomes": {r[0]: r[1] for r in await db.fetch(outcomes)},
            "per_source": per_source,
            "per_source_unit": by_unit,  # a shared node's records, per unit it serves
            "per_sink": per_sink,
            "documents": int(docs),
        }

    async def unit_figures(self) -> dict[str, dict[str, int]]:
        """Each unit's figures (bridge/domain/figures.py), for every unit the store has seen."""
        db = self._scan()
        outcomes: dict[str, dict[str, int]] = {}
        for unit, outcome, n in await db.fetch(
            f"SELECT unit, coalesce(outcome, '{UNPROCESSED}'), count(*) FROM records GROUP BY 1, 2"
        ):
            outcomes.setdefault(unit, {})[outcome] = int(n)
        matched = {
            r[0]: (int(r[1]), int(r[2]))
            for r in await db.fetch(
                "SELECT r.unit, count(*), count(DISTINCT r.document_id) FROM records r"
                " JOIN documents d ON d.id = r.document_id"
                f" WHERE r.outcome IN ('{RecordOutcome.DOCUMENT}', '{RecordOutcome.DUPLICATE}')"
                f" AND d.state != '{DocumentState.MERGED}' GROUP BY 1"
            )
        }
        deliveries: dict[str, dict[str, int]] = {}
        for unit, state, n in await db.fetch(
            f"SELECT unit, state, count(*) FROM outbox WHERE op = '{Operation.CREATE}'"
            " GROUP BY 1, 2"
        ):
            deliveries.setdefault(unit, {})[state] = int(n)
        return {
            unit: unit_figures(
                outcomes.get(unit, {}), matched.get(unit, (0, 0)), deliveries.get(unit, {})
            )
            for unit in sorted(outcomes.keys() | deliveries.keys())
        }

    async def backlog(self) -> dict[tuple[str, str], int]:
        """Records not decided yet (unprocessed or waiting), by (unit, source)."""
        rows = await self._scan().fetch(
            "SELECT unit, source, count(*) FROM records"
            f" WHERE outcome IS NULL OR outcome = '{RecordOutcome.WAITING}' GROUP BY 1, 2"
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    async def delivered_to(self, doc_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Every home system each document reached: (unit, sink, remote id, when), by document."""
        ids = sorted(set(doc_ids))
        if not ids:
            return {}
        marks = ", ".join(f"${n}" for n in range(1, len(ids) + 1))
        rows = await self._read().fetch(
            "SELECT document_id, unit, sink, remote_id, done_at FROM outbox"
            f" WHERE document_id IN ({marks}) AND op = '{Operation.CREATE}'"
            f" AND state = '{DeliveryState.DELIVERED}' ORDER BY done_at, id",
            ids,
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for doc_id, unit, sink, remote_id, at in rows:
            out.setdefault(int(doc_id), []).append(
                {"unit": unit, "sink": sink, "remote_id": remote_id, "at": at}
            )
        return out

    async def throughput_rows(
        self, since: str, units: Collection[str] | None = None
    ) -> tuple[list[str], list[tuple[str, str | None, bool]]]:
        """What throughput is made of since the ISO time `since`: the records' received times,
        and each delivery open then or made since as (created, done, delivered); only those of
        `units` when given (an operator who sees some units)."""
        db = self._scan()
        only = tuple(sorted(units)) if units is not None else ()
        within = f" AND unit IN {in_params(only, 2)}" if units is not None else ""
        if units is not None and not only:
            return [], []
        received = await db.fetch(
            "SELECT received_at FROM records WHERE received_at > $1" + within, (since, *only)
        )
        rows = await db.fetch(
            "SELECT created_at, done_at, state FROM outbox"
            f" WHERE op = '{Operation.CREATE}' AND (done_at IS NULL OR done_at > $1)" + within,
            (since, *only),
        )
        return [r[0] for r in received], [
            (r[0], r[1], r[2] == DeliveryState.DELIVERED) for r in rows
        ]

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
