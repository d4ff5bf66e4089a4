"""Where a V-Office pull resumes: the last durable `modified`, the ids seen at it, its ETag.

Offset paging is not a snapshot, so the cursor keeps a time mark, not a page: see
`adapters.voffice.source` for how pages are read from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import orjson

from adapters._cursor import admit_at

EPOCH = "1970-01-01T00:00:00+00:00"
UNREADABLE_RETRIES = 10  # polls re-reading an unreadable page before the cursor steps past it


@dataclass
class Cursor:
    """Last durable `modified` (as sent), ids seen at exactly it, and the ETag of that query."""

    since: str = EPOCH
    seen: set[str] = field(default_factory=set)
    etag: str | None = None
    offset: int = 0  # where to start at `since`: an unreadable page or past it, else 0
    failures: int = 0  # unreadable reads in a row of the page at `offset`

    @classmethod
    def load(cls, raw: str | None) -> Cursor:
        if not raw:
            return cls()
        data = orjson.loads(raw)
        return cls(
            since=data["since"],
            seen=set(data["seen"]),
            etag=data.get("etag"),
            offset=int(data.get("offset", 0)),
            failures=int(data.get("failures", 0)),
        )

    def dump(self) -> str:
        state = {
            "since": self.since,
            "seen": sorted(self.seen),
            "etag": self.etag,
            "offset": self.offset,
            "failures": self.failures,
        }
        return orjson.dumps(state).decode()

    def admit(self, modified: str, external_id: str) -> bool:
        """Take a document into the cursor; False if the cursor already holds it."""
        admitted = admit_at(self.since, self.seen, modified, external_id, _instant)
        if admitted is None:
            return False
        if admitted[0] != self.since:
            self.etag, self.offset = None, 0
        self.since, self.seen = admitted
        return True

    def after_unreadable(self, offset: int, limit: int) -> None:
        """Read the page at `offset` again next poll; step past it once it stays unreadable."""
        self.failures += 1
        self.offset = offset
        if self.failures >= UNREADABLE_RETRIES:
            self.offset, self.failures = offset + limit, 0


def _instant(text: str) -> dt.datetime:
    """An RFC 3339 time as an aware datetime. Raises ValueError for anything else."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(text)
    return value
