"""A matching decision as the matcher makes it and the store applies it, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.domain.outbox import Wanted
from bridge.domain.status_mirror import StatusReply
from schemas import Document


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
    deliveries: tuple[Wanted, ...] = ()
    cancel_pending_creates: bool = False
    status_replies: tuple[StatusReply, ...] = ()
    correction_note: str | None = None
