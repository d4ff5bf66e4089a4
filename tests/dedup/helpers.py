"""Hand-made records and documents for matcher tests, decided and applied on a real store."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from bridge.dedup import Matcher
from bridge.store import Outcome, SqliteStore, StoredRecord
from schemas import Attachment, Document, Organ, RawRecord

UNIT = "000.00.33.H49"
DAY = dt.date(2024, 3, 5)


def attachment(content: str) -> Attachment:
    data = content.encode()
    return Attachment(
        name=f"{content}.pdf", size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


def document(**fields: Any) -> Document:
    values: dict[str, Any] = {
        "issuer": Organ(code="000.00.00.H49", name="Ủy ban nhân dân tỉnh Quảng Ninh"),
        "number": "335",
        "notation": "UBND-HC",
        "issued_on": DAY,
        "subject": "V/v triển khai gửi, nhận văn bản điện tử",
        "attachments": (attachment("335"),),
    }
    values.update(fields)
    return Document(**values)


class Desk:
    """A matcher on a real store; `feed` stores a record, decides it and applies the outcome."""

    def __init__(self, store: SqliteStore, matcher: Matcher | None = None) -> None:
        self.store = store
        self.matcher = matcher or Matcher(store, lambda unit: [f"{unit}-home"])
        self._n = 0

    async def feed(
        self, doc: Document, *, source: str = "src", external_id: str | None = None
    ) -> Outcome:
        self._n += 1
        raw = RawRecord(
            source=source,
            unit=UNIT,
            external_id=external_id or f"r{self._n}",
            version=str(self._n),
            media_type="application/json",
            payload=b"{}",
            received_at=dt.datetime.now(dt.UTC),
        )
        (record_id,) = await self.store.save_records([raw])
        record = await self.store.record(record_id)
        assert record is not None
        outcome = await self.matcher.decide(record, doc, "tdoffice")
        document_id = await self.store.apply(outcome)
        return outcome if document_id is None else _with_id(outcome, document_id)

    async def stored(self, record_id: int) -> StoredRecord:
        record = await self.store.record(record_id)
        assert record is not None
        return record


def _with_id(outcome: Outcome, document_id: int) -> Outcome:
    import dataclasses

    return dataclasses.replace(outcome, document_id=document_id)
