"""Row types the store hands back, shared by every backend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bridge.domain.status_mirror import StatusReply
from schemas import Document, RawRecord


@dataclass(frozen=True)
class StoredRecord:
    id: int
    raw: RawRecord
    acked: bool
    outcome: str | None
    document_id: int | None
    decision: dict[str, Any] | None
    released: bool = False  # an operator released it from quarantine: holds no longer apply


@dataclass(frozen=True)
class DocumentRow:
    id: int
    triple: str | None
    issuer_code: str | None
    issuer_key: str | None
    state: str
    revision: int
    document: Document
    conflicts: list[dict[str, Any]]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Delivery:
    id: int
    document_id: int
    unit: str
    sink: str
    op: str
    revision: int
    key: str
    body: dict[str, Any] | None
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    remote_id: str | None
    created_at: str = ""
    # A correction (op "correct"): what the clerk is told, which road taught what. Its
    # `revision` numbers the corrections of the document at that sink (1, 2, …).
    note: str | None = None

    @property
    def created_ts(self) -> float:
        return dt.datetime.fromisoformat(self.created_at).timestamp() if self.created_at else 0.0


@dataclass(frozen=True)
class NewDocument:
    """What the matcher decided to create."""

    document: Document
    triple: str | None
    issuer_code: str | None
    issuer_key: str | None
    fallback: str | None


@dataclass(frozen=True)
class Outcome:
    """One matching decision and its consequences, applied in one transaction.

    `outcome` is document | duplicate | revision | quarantined | waiting.
    `deliveries` lists (unit, sink, op, revision) to enqueue for the resulting document;
    `cancel_pending_creates` cancels undelivered creates (a revocation before delivery).
    `correction_note` goes with the "correct" deliveries (which road taught which field).
    """

    record_id: int
    outcome: str
    decision: dict[str, Any]
    new_document: NewDocument | None = None
    document_id: int | None = None
    updated_document: Document | None = None
    conflict: dict[str, Any] | None = None
    quarantine: tuple[str, str] | None = None  # (kind, reason)
    deliveries: tuple[tuple[str, str, str, int], ...] = ()
    cancel_pending_creates: bool = False
    status_replies: tuple[StatusReply, ...] = ()
    correction_note: str | None = None


@dataclass(frozen=True)
class StatusOut:
    id: int
    record_id: int
    source: str
    code: str
    description: str
    from_organ: str
    to_organ: dict[str, Any]
    ref: dict[str, Any]
    attempts: int


__all__ = [
    "Delivery",
    "DocumentRow",
    "NewDocument",
    "Outcome",
    "StatusOut",
    "StatusReply",
    "StoredRecord",
]
