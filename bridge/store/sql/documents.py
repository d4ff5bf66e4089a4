"""Documents and the matching decision: a decision and all its consequences in one
transaction (the document, its index and revisions, quarantine, the outbox rows the rule of
bridge/domain/outbox.py makes, the status owed to senders)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from bridge import jsonutil
from bridge.domain.decision import Outcome
from bridge.domain.entities import DocumentRow
from bridge.domain.enums import DeliveryState, DocumentState, QuarantineKind, RecordOutcome
from bridge.domain.outbox import Wanted, needs_existing, outbox_rows
from bridge.domain.search import search_key
from bridge.domain.status_mirror import hears_status
from bridge.interfaces import Operation
from bridge.store.api import Fence
from bridge.store.driver.shim import Conn
from bridge.store.sql.base import DOCUMENT_COLS, SqlBase, document_row, dumps, now_iso
from bridge.store.sql.status import enqueue_status, owe_reported
from schemas import Document

_LIVE = f"state != '{DocumentState.MERGED}'"
_CREATE = f"op = '{Operation.CREATE}'"


class Documents(SqlBase):
    """Lookups for the matcher, `apply` and records held for review."""

    async def documents_by_triple(self, triple: str) -> list[DocumentRow]:
        return await self._documents(f"triple = $1 AND {_LIVE} ORDER BY id", (triple,))

    async def documents_by_attachment(self, sha256s: Iterable[str]) -> list[DocumentRow]:
        shas = sorted(set(sha256s))
        if not shas:
            return []
        marks = ", ".join(f"${n}" for n in range(1, len(shas) + 1))
        return await self._documents(
            f"id IN (SELECT document_id FROM attachment_index WHERE sha256 IN ({marks}))"
            f" AND {_LIVE} ORDER BY id",
            shas,
        )

    async def document(self, document_id: int) -> DocumentRow | None:
        found = await self._documents("id = $1", (document_id,))
        return found[0] if found else None

    async def _documents(self, where: str, args: Sequence[object]) -> list[DocumentRow]:
        rows = await self._read().fetch(
            f"SELECT {DOCUMENT_COLS} FROM documents WHERE {where}", args
        )
        return [document_row(r) for r in rows]

    async def sinks_holding(self, doc_id: int) -> list[tuple[str, str]]:
        rows = await self._read().fetch(
            f"SELECT DISTINCT unit, sink FROM outbox WHERE document_id = $1 AND {_CREATE}"
            f" AND state != '{DeliveryState.CANCELLED}'",
            (doc_id,),
        )
        return [(r[0], r[1]) for r in rows]

    async def apply(self, outcome: Outcome, *, fence: Fence = None) -> int | None:
        async with self._tx(fence) as conn:
            claimed = await conn.execute(
                "UPDATE records SET outcome = $1 WHERE id = $2"
                f" AND (outcome IS NULL OR outcome = '{RecordOutcome.WAITING}')",
                (outcome.outcome, outcome.record_id),
            )
            if claimed != 1:
                return None  # decided already (by an instance whose lease we took over)
            doc_id = await self._apply_document(conn, outcome)
            if outcome.quarantine is not None:
                await conn.execute(
                    "INSERT INTO quarantine (record_id, kind, reason, created_at)"
                    " VALUES ($1,$2,$3,$4) ON CONFLICT (record_id) DO UPDATE SET"
                    " kind = excluded.kind, reason = excluded.reason, released_at = NULL",
                    (outcome.record_id, *outcome.quarantine, now_iso()),
                )
            if doc_id is not None:
                await self._apply_to_outbox(conn, doc_id, outcome)
            await enqueue_status(conn, outcome.record_id, outcome.status_replies)
            if doc_id is not None and hears_status(outcome.outcome, outcome.status_replies):
                await owe_reported(conn, doc_id, outcome.record_id)
            await conn.execute(
                "UPDATE records SET outcome = $1, document_id = $2, decision = $3 WHERE id = $4",
                (outcome.outcome, doc_id, dumps(outcome.decision), outcome.record_id),
            )
            return doc_id

    async def _apply_document(self, conn: Conn, outcome: Outcome) -> int | None:
        """The decision's document: made, updated or left as it is; its conflict noted."""
        doc_id = outcome.document_id
        stamp = now_iso()
        if outcome.new_document is not None:
            new = outcome.new_document
            doc = new.document
            doc_id = int(
                await conn.fetchval(
                    "INSERT INTO documents (triple, issuer_code, issuer_key, fallback, state,"
                    " revision, data, created_at, updated_at, search_key)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,$9) RETURNING id",
                    (
                        new.triple,
                        new.issuer_code,
                        new.issuer_key,
                        new.fallback,
                        doc.state.value,
                        doc.revision,
                        doc.model_dump_json(),
                        stamp,
                        search_key(doc),
                    ),
                )
            )
        elif doc_id is not None and outcome.updated_document is not None:
            doc = outcome.updated_document
            await conn.execute(
                "UPDATE documents SET data = $1, state = $2, revision = $3, updated_at = $4,"
                " search_key = $5 WHERE id = $6",
                (
                    doc.model_dump_json(),
                    doc.state.value,
                    doc.revision,
                    stamp,
                    search_key(doc),
                    doc_id,
                ),
            )
        else:
            doc = None
        if doc is not None and doc_id is not None:
            await _index(conn, doc_id, doc, outcome, stamp)
        if doc_id is not None and outcome.conflict is not None:
            await conn.execute(
                f"UPDATE documents SET conflicts = {self.dialect.json_append('conflicts', '$2')}"
                " WHERE id = $1",
                (doc_id, dumps(outcome.conflict)),
            )
        return doc_id

    async def _apply_to_outbox(self, conn: Conn, doc_id: int, outcome: Outcome) -> None:
        if outcome.cancel_pending_creates:  # a revocation before anything was sent
            await conn.execute(
                f"UPDATE outbox SET state = '{DeliveryState.CANCELLED}', done_at = $1"
                f" WHERE document_id = $2 AND {_CREATE} AND state = '{DeliveryState.PENDING}'"
                " AND body IS NULL",
                (now_iso(), doc_id),
            )
        await enqueue(conn, doc_id, outcome.deliveries, outcome.correction_note)

    async def held_for_review(self) -> list[tuple[int, str, list[str], dict[str, Any]]]:
        # Read like a point read: inside a batch the matcher must see the batch's own holds.
        rows = await self._read().fetch(
            "SELECT r.id, r.unit, r.decision::text FROM quarantine q"
            f" JOIN records r ON r.id = q.record_id WHERE q.kind = '{QuarantineKind.REVIEW}'"
            f" AND q.released_at IS NULL AND r.outcome = '{RecordOutcome.QUARANTINED}'"
            " ORDER BY r.id"
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
        deliveries: Iterable[Wanted],
    ) -> bool:
        async with self._tx() as conn:
            released = await conn.execute(
                "UPDATE quarantine SET released_at = $1 WHERE record_id = $2"
                f" AND kind = '{QuarantineKind.REVIEW}'"
                " AND released_at IS NULL",
                (now_iso(), record_id),
            )
            if released != 1:
                return False
            await conn.execute(
                f"UPDATE records SET outcome = '{RecordOutcome.DUPLICATE}', document_id = $1,"
                " decision = $2 WHERE id = $3",
                (document_id, dumps(decision), record_id),
            )
            await conn.execute(
                "UPDATE documents SET data = $1, updated_at = $2 WHERE id = $3",
                (document.model_dump_json(), now_iso(), document_id),
            )
            await enqueue(conn, document_id, deliveries)
            return True


async def _index(conn: Conn, doc_id: int, doc: Document, outcome: Outcome, stamp: str) -> None:
    """A document's files in the attachment index; a new document or revision kept as such."""
    await conn.executemany(
        "INSERT INTO attachment_index VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(a.sha256, doc_id) for a in doc.attachments],
    )
    if outcome.new_document is not None or outcome.outcome == RecordOutcome.REVISION:
        await conn.execute(
            "INSERT INTO revisions VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
            (doc_id, doc.revision, outcome.record_id, doc.model_dump_json(), stamp),
        )


async def enqueue(
    conn: Conn, doc_id: int, wanted: Iterable[Wanted], note: str | None = None
) -> None:
    """Write the outbox rows the rule makes of `wanted` for document `doc_id`."""
    wanted = list(wanted)
    existing = []
    if needs_existing(wanted):
        existing = await conn.fetch(
            "SELECT unit, sink, op, state FROM outbox WHERE document_id = $1 ORDER BY id", (doc_id,)
        )
    stamp = now_iso()
    for row in outbox_rows(wanted, [(r[0], r[1], r[2], r[3]) for r in existing], note):
        await conn.execute(
            "INSERT INTO outbox (document_id, unit, sink, op, revision, key, created_at, note)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
            (doc_id, row.unit, row.sink, row.op, row.revision, str(uuid.uuid4()), stamp, row.note),
        )
