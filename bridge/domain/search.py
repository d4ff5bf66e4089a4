"""How documents are found by people: by số/ký hiệu, trích yếu, type or issuer, as clerks type.

Each document keeps a folded `search_key`: without diacritics (Đ/đ as D/d), case-folded, the
separators of a symbol (spaces, dashes, slashes) all one space, other punctuation kept as a
word of its own. So "18/QD-SYT" finds "18/QĐ-SYT", "cai cach" finds "cải cách" and
"1335 UBND HC" finds "1335/UBND-HC". A hit is *exact* when the query stands between word
boundaries in the key ("335/UBND-HC" is exact for 335/UBND-HC, *partial* for 1335/UBND-HC);
exact hits come first, and each hit says which it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.domain.entities import DocumentRow
from bridge.domain.enums import DocumentState
from bridge.normalize import normalize_notation, normalize_number
from bridge.normalize.text import normalize_text, strip_marks
from schemas import Document

# Spaces, ASCII and Unicode dashes and slashes, underscores: a symbol's separators, all alike.
_SEPARATORS = "\\s/\\\\\\-_\u00ad\u2010-\u2015\u2212\u2044\u2215\ufe58\ufe63\uff0d\uff0f"
# A run of letters and digits, or one other visible character (kept: "100%" is not "100").
_TOKEN = re.compile(rf"[^\W_]+|[^\w{_SEPARATORS}]")

# "Số:", "Số ký hiệu:", "Văn bản số" before a number, as folded.
_NUMBER_PREFIX = re.compile(r"^(?:van ban )?so(?: ky hieu)?(?: [:.])? (?=\d)")
_LEADING_ZEROS = re.compile(r"^0+(?=\d)")

# Documents merged into another are not listed unless asked for by state.
STATES = tuple(s.value for s in DocumentState)
EXACT, PARTIAL = 0, 1  # the rank of a hit: exact ones first


def fold_search(text: str) -> str:
    """The search form of any text: no diacritics, case-folded, separators one space. Idempotent."""
    bare = strip_marks(normalize_text(text)).casefold()
    return " ".join(_TOKEN.findall(bare))


def search_key(doc: Document) -> str:
    number = normalize_number(doc.number) or ""
    notation = normalize_notation(doc.notation) or ""
    parts = [
        f"{number}/{notation}",
        doc.symbol,
        doc.type_name or "",
        doc.subject,
        doc.issuer.name or "",
        doc.issuer.code or "",
    ]
    return " ".join(key for p in parts if p and (key := fold_search(p)))


def query_key(q: str) -> str:
    """The folded text to look for, without a leading "Số:" and a number's leading zeros."""
    return _LEADING_ZEROS.sub("", _NUMBER_PREFIX.sub("", fold_search(q)))


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_patterns(q: str) -> tuple[str, str] | None:
    """LIKE patterns (ESCAPE '\\') for a query: anywhere in the key, and between word
    boundaries in the key padded with a space each side. None when nothing is left to
    look for (only separators)."""
    key = query_key(q)
    if not key:
        return None
    escaped = like_escape(key)
    return f"%{escaped}%", f"% {escaped} %"


@dataclass(frozen=True)
class FoundDocument(DocumentRow):
    """A document a search found; `exact` is False for a hit that cuts into a word or number."""

    exact: bool = True
