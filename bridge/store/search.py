"""How documents are found by people: by số/ký hiệu, trích yếu or issuer, in any spelling.

Each document keeps a folded `search_key` (case, accents' tone placement, Đ look-alikes and
spacing folded; the symbol also in its normalized form), so "335/ubnd-hc", "UBND huyện Tiểu
Cần" or "hoà" find what a clerk means.
"""

from __future__ import annotations

from bridge.normalize import fold_key, normalize_notation, normalize_number, parse_symbol
from schemas import Document


def search_key(doc: Document) -> str:
    number = normalize_number(doc.number) or ""
    notation = normalize_notation(doc.notation) or ""
    parts = [
        f"{number}/{notation}",
        doc.symbol,
        doc.subject,
        doc.issuer.name or "",
        doc.issuer.code or "",
    ]
    # Folded part by part (the same as folding the joined text: no fold reaches across a
    # space), so the parts that recur (issuer names and codes) come from fold_key's cache.
    return " ".join(key for p in parts if p and (key := fold_key(p)))


def query_key(q: str) -> str:
    """The folded text to look for; a số/ký hiệu is normalized as the stored one is."""
    try:
        symbol = parse_symbol(q)
    except ValueError:
        return fold_key(q)
    if symbol.number and symbol.notation:
        return fold_key(f"{symbol.number}/{symbol.notation}")
    return fold_key(q)
