"""What the bridge keeps: a raw record as stored, a document, a delivery owed to a sink, a
status message owed to a sender (the store hands them back the same from every backend)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

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
