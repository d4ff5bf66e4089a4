"""Search hits as the store hands them back, and the migration that recomputes search keys.

How a document's search key and a query's patterns are folded is a rule of its own
(bridge/domain/search.py); the store keeps the key and matches the patterns with LIKE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.domain.search import EXACT, search_key
from bridge.store.rows import DocumentRow
from schemas import Document


@dataclass(frozen=True)
class FoundDocument(DocumentRow):
    """A document a search found; `exact` is False for a hit that cuts into a word or number."""

    exact: bool = True


def found(row: DocumentRow, rank: Any) -> FoundDocument:
    fields = {f: getattr(row, f) for f in DocumentRow.__dataclass_fields__}
    return FoundDocument(**fields, exact=int(rank) == EXACT)


REKEY_AT = 9  # the migration that empties the keys: the store recomputes them in its transaction
REKEY_BATCH = 500


def rekeyed(rows: Any) -> list[tuple[str, int]]:
    """(search key, id) for (id, document JSON) rows: the keys a migration emptied."""
    return [(search_key(Document.model_validate_json(data)), doc_id) for doc_id, data in rows]
