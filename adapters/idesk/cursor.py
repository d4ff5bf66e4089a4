"""Where an iDesk pull resumes: FromDate, the ids already read at it, and a PageIndex.

GetIncomingDocuments is inclusive on `ModifiedDate`, so the cursor keeps the newest durable
ModifiedDate and the DocumentIDs read at exactly that second (skipped when re-read). The
PageIndex moves past full pages whose every document shares that second. A page that could
not be read at all is read again on the next polls (an error page served once loses nothing)
and stepped past only after `UNREADABLE_RETRIES` failures in a row, so a poll is never stuck
on it for good.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from bridge.errors import ConfigError

WIRE_FORMAT = "%Y-%m-%dT%H:%M:%S"
UNREADABLE_RETRIES = 10  # polls re-reading an unreadable page before the cursor steps past it


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
    failures: int = 0  # unreadable reads in a row of the page at `page_index`

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
                failures=int(data.get("failures", 0)),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError([f"con trỏ iDesk hỏng / corrupt idesk cursor: {raw[:80]!r}"]) from exc

    def dump(self) -> str:
        body = {
            "from": self.from_date,
            "seen": sorted(self.seen),
            "page": self.page_index,
            "failures": self.failures,
        }
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

    def after_unreadable_page(self) -> Cursor:
        """Read the same page again next poll; step past it once it stays unreadable."""
        failures = self.failures + 1
        if failures >= UNREADABLE_RETRIES:
            return Cursor(self.from_date, self.seen, self.page_index + 1)
        return Cursor(self.from_date, self.seen, self.page_index, failures)

    def from_first_page(self) -> Cursor:
        """The same FromDate from PageIndex 0: for a later page that came back empty."""
        return Cursor(self.from_date, self.seen, 0, self.failures)
