"""Where an iDesk pull resumes: FromDate, the ids already read at it, and a PageIndex.

GetIncomingDocuments is inclusive on `ModifiedDate`, so the cursor keeps the newest durable
ModifiedDate and the DocumentIDs read at exactly that second (skipped when re-read). The
PageIndex moves past a page that could not be read at all, and past full pages whose every
document shares that second, so a pull is never stuck re-reading the same page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from bridge.errors import ConfigError

WIRE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def modified_second(value: str | None) -> str | None:
    """`ModifiedDate` cut to the second in the wire format, None when unreadable."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=None, microsecond=0).strftime(WIRE_FORMAT)


@dataclass(frozen=True)
class Cursor:
    from_date: str
    seen: frozenset[str] = frozenset()
    page_index: int = 0

    @classmethod
    def load(cls, raw: str | None, start_from: str) -> Cursor:
        """The cursor stored as `raw` (None: a first pull from `start_from`)."""
        if raw is None:
            return cls(from_date=start_from)
        try:
            data = orjson.loads(raw)
            return cls(
                from_date=str(data["from"]),
                seen=frozenset(str(i) for i in data.get("seen", ())),
                page_index=int(data.get("page", 0)),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError([f"con trỏ iDesk hỏng / corrupt idesk cursor: {raw[:80]!r}"]) from exc

    def dump(self) -> str:
        body = {"from": self.from_date, "seen": sorted(self.seen), "page": self.page_index}
        return orjson.dumps(body).decode()

    def is_seen(self, document_id: str | None, modified: str | None) -> bool:
        """True for a document already read at exactly `from_date` (FromDate is inclusive)."""
        return document_id in self.seen and modified_second(modified) == self.from_date

    def after_page(self, dated: Iterable[tuple[str, str]], is_full: bool) -> Cursor:
        """The cursor once a page of (DocumentID, ModifiedDate second) pairs is stored."""
        pairs = list(dated)
        newest = max((second for _, second in pairs), default=None)
        if newest is None or newest <= self.from_date:
            at_from = {doc_id for doc_id, second in pairs if second == self.from_date}
            step = 1 if is_full else 0
            return Cursor(self.from_date, self.seen | at_from, self.page_index + step)
        return Cursor(newest, frozenset(d for d, second in pairs if second == newest), 0)

    def past_unreadable_page(self) -> Cursor:
        return Cursor(self.from_date, self.seen, self.page_index + 1)
