"""Records held for review (a mail naming no number or date) wait for the document their files
belong to; when it is stored, by any road, they join it as duplicates and leave quarantine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import structlog

from bridge.dedup.finding import MERGED
from bridge.dedup.reasons import decision, shas
from bridge.store import DocumentRow, Store
from schemas import Document, Provenance

log = structlog.get_logger(__name__)

Deliveries = tuple[tuple[str, str, str, int], ...]


@runtime_checkable
class HeldQueries(Protocol):
    """Store methods for held records (SqliteStore's "matching queries (dedup)" block).

    A store without them still matches; held records then wait for an operator."""

    async def held_for_review(self) -> list[tuple[int, str, list[str], dict[str, Any]]]: ...

    async def merge_held(
        self,
        record_id: int,
        document_id: int,
        document: Document,
        decision: dict[str, Any],
        deliveries: Iterable[tuple[str, str, str, int]],
    ) -> bool: ...


@dataclass(frozen=True)
class Held:
    """A record held for review, waiting for the document its files belong to."""

    record_id: int
    unit: str
    shas: frozenset[str]
    provenance: Provenance


class HeldRecords:
    """The held records, loaded once from the store and kept current as the matcher decides.

    `creates(unit)` names the deliveries a joining record's unit is owed.
    """

    def __init__(self, store: Store, creates: Callable[[str], Deliveries]) -> None:
        self.store = store
        self.creates = creates
        self._queries = store if isinstance(store, HeldQueries) else None
        self._held: dict[int, Held] | None = None
        self._pending: set[str] = set()  # files of new documents not yet checked

    def forget(self) -> None:
        """Read the held records from the store again at next use (another instance may
        have held or merged some while this one did not hold the matching lease)."""
        self._held = None

    async def _book(self) -> dict[int, Held]:
        if self._held is None:
            self._held = {}
            rows = await self._queries.held_for_review() if self._queries else []
            for record_id, unit, files, prov in rows:
                held = Held(record_id, unit, frozenset(files), Provenance.model_validate(prov))
                self._held[record_id] = held
        return self._held

    async def hold(self, record_id: int, unit: str, doc: Document) -> None:
        """Remember a record just held for review (its decision carries the same facts)."""
        if doc.attachments and doc.provenance:
            (await self._book())[record_id] = Held(record_id, unit, shas(doc), doc.provenance[0])

    async def note_new(self, doc: Document) -> None:
        """A new document's files may be a held record's: `absorb` checks once it is stored."""
        files = shas(doc)
        if files and any(h.shas & files for h in (await self._book()).values()):
            self._pending |= files

    async def absorb(self) -> int:
        """Join held records to documents stored since the last call that carry their files.

        Idempotent; returns how many records left quarantine.
        """
        if not self._pending:
            return 0
        files, self._pending = self._pending, set()
        before = len(await self._book())
        for row in await self.store.documents_by_attachment(files):
            if row.state != MERGED:
                await self.absorb_into(row, row.document)
        return before - len(await self._book())

    async def absorb_into(self, row: DocumentRow, doc: Document) -> DocumentRow:
        """Move held records whose files are all this document's into it; the row as it is now
        (`doc` is the road being matched to it, whose files count too)."""
        book = await self._book()
        files = shas(row.document) | shas(doc)
        for held in [h for h in book.values() if h.shas <= files]:
            del book[held.record_id]
            if await self._merge(row, held):
                log.info("held_record_merged", record=held.record_id, document=row.id)
                row = await self.store.document(row.id) or row
        return row

    async def _merge(self, row: DocumentRow, held: Held) -> bool:
        if self._queries is None:
            return False
        merged = row.document.model_copy(
            update={"provenance": (*row.document.provenance, held.provenance)}
        )
        code = await self._held_issuer_code(held)
        if row.document.issuer.code is None and code is not None:
            # the held road knew the issuer's code (a mail from an address-book sender)
            issuer = row.document.issuer.model_copy(update={"code": code})
            merged = merged.model_copy(update={"issuer": issuer})
        why = decision(
            "held_merged",
            None,
            candidate=row.id,
            matched=("attachments_sha256",),
            attachments=sorted(held.shas),
        )
        return await self._queries.merge_held(
            held.record_id, row.id, merged, why, self.creates(held.unit)
        )

    async def _held_issuer_code(self, held: Held) -> str | None:
        """The issuer code the held record's decision names (its identity key), if any."""
        record = await self.store.record(held.record_id)
        key = (record.decision or {}).get("key") if record is not None else None
        code = key.get("issuer_code") if isinstance(key, dict) else None
        return code if isinstance(code, str) and code else None
