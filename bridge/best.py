"""The best of every road: which road's value of a field a delivered document carries.

Pure functions, no I/O. Normalization decides what a name or a text normalizes to; this module
only ranks normalized values that name the same thing: an organ code over a name alone, a full
name over a short one, readable Vietnamese over text still in a legacy font. The ranking is a
total order (its last key is the value itself), so the home copy converges to the same fields
whatever order the roads arrive in.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.normalize.directory import OrganDirectory
from bridge.normalize.identity import subject_key
from bridge.normalize.legacy import clean_text, decode_tcvn3, decode_vni
from bridge.normalize.text import normalize_text
from schemas import Document, Organ

# The letters of Vietnamese beyond ASCII, upper and lower case, in NFC.
_BASES = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
_VIETNAMESE = frozenset(
    unicodedata.normalize("NFC", base + tone)
    for letter in _BASES
    for base in (letter, letter.upper())
    for tone in _TONES
) | frozenset("đĐ")
# Latin-1 symbols a legacy font leaves behind (TCVN3 and VNI letters read as Latin-1).
_LEGACY_SYMBOLS = frozenset(chr(c) for c in range(0xA1, 0xC0)) - frozenset("«»°·")
_WORD_BREAK = re.compile(r"[\s,.;:()]+")
_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")

FIELD_LABELS = {
    "issuer.code": ("mã cơ quan ban hành", "issuer code"),
    "issuer.name": ("tên cơ quan ban hành", "issuer name"),
    "subject": ("trích yếu", "subject"),
    "type_name": ("loại văn bản", "document type"),
    "signer": ("người ký", "signer"),
    "due_on": ("hạn xử lý", "due date"),
}


@dataclass(frozen=True)
class Lesson:
    """A field whose best value a road brought: `field` is a FIELD_LABELS key."""

    field: str
    value: str
    road: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "value": self.value, "road": self.road}


def foreign_characters(text: str) -> int:
    """Characters that are neither ASCII nor Vietnamese letters and look like the residue of
    a legacy font or a wrong repair (Latin-1 symbols, Ñ, ö, Cyrillic …)."""
    count = 0
    for char in unicodedata.normalize("NFC", text):
        if char.isascii() or char in _VIETNAMESE:
            continue
        if char in _LEGACY_SYMBOLS or char.isalpha():
            count += 1
    return count


def abbreviations(name: str) -> int:
    """Words of two or more letters all in capitals: UBND, HND, BHXH, VH&TT."""
    return sum(
        1
        for word in _WORD_BREAK.split(name)
        if word.isupper() and sum(char.isalpha() for char in word) >= 2
    )


def marked_letters(text: str) -> int:
    """Letters carrying a Vietnamese diacritic (a text typed without them ranks lower)."""
    decomposed = unicodedata.normalize("NFD", text)
    return sum(1 for char in decomposed if char in _MARKS) + text.count("đ") + text.count("Đ")


def name_rank(name: str | None, known: str | None = None) -> tuple[Any, ...]:
    """Rank of an organ name, higher is better: readable, the directory's own name for the
    code, fewer abbreviations, more words, then the name itself (a total order)."""
    if name is None:
        return (0,)
    return (
        1,
        -foreign_characters(name),
        name == known,
        -abbreviations(name),
        len(name.split()),
        marked_letters(name),
        name,
    )


def text_rank(text: str) -> tuple[Any, ...]:
    """Rank of one text written several ways, higher is better: readable (no legacy residue,
    nothing left for the legacy repair), with its diacritics, longer, then the text itself."""
    return (
        bool(text),
        -foreign_characters(text),
        clean_text(text) == normalize_text(text),  # nothing left for the legacy repair
        marked_letters(text),
        len(text),
        text,
    )


def best_issuer(
    current: Organ,
    other: Organ,
    directory: OrganDirectory | None = None,
    at: dt.date | None = None,
) -> Organ:
    """The better of two writings of one issuer, field by field: a code over none (the
    organ's code on the document's date `at`, by the directory, over a previous one; else the
    one already held), the better name by `name_rank` (the directory's name for the code on
    that date first)."""
    code = current.code or other.code
    if directory is not None and current.code and other.code:
        # Two codes of one organ: its code that day (a previous code resolves to it) wins.
        code = other.code if directory.resolve(current.code, at) == other.code else current.code
    entry = directory.get(code, at) if directory is not None and code else None
    known = entry.name if entry is not None else None
    name = _better(current.name, other.name, lambda n: name_rank(n, known))
    return Organ(code=code, name=name)


def legacy_writing_of(legacy: str, readable: str) -> bool:
    """Whether `legacy` is `readable` typed in a TCVN3 or VNI font and read as Latin-1 (told
    apart by the pair: alone, "vÒ" may be a word)."""
    if legacy == readable or any(ord(char) > 0xFF for char in legacy):
        return False
    target = subject_key(readable)
    for decode in (decode_tcvn3, decode_vni):
        decoded = decode(legacy)
        if decoded != legacy and subject_key(decoded) == target:
            return True
    return False


def same_text(a: str, b: str) -> bool:
    """Two writings of one text: equal once folded (with "V/v" aside), or one of them is the
    other in a legacy font."""
    return subject_key(a) == subject_key(b) or legacy_writing_of(a, b) or legacy_writing_of(b, a)


def best_of(
    known: Document,
    incoming: Document,
    road: str,
    directory: OrganDirectory | None = None,
) -> tuple[Document, tuple[Lesson, ...]]:
    """`known` with every field `incoming` writes better; the lessons name what changed.

    Only writings of the same value compete: a subject that differs in substance is a
    disagreement between roads (recorded elsewhere), never a correction. Fields `known` lacks
    are filled. Idempotent: `best_of(best, incoming)` teaches nothing new.
    """
    updates: dict[str, Any] = {}
    lessons: list[Lesson] = []
    issuer = best_issuer(known.issuer, incoming.issuer, directory, known.issued_on)
    if issuer != known.issuer:
        updates["issuer"] = issuer
        if issuer.code != known.issuer.code and issuer.code is not None:
            lessons.append(Lesson("issuer.code", issuer.code, road))
        if issuer.name != known.issuer.name and issuer.name is not None:
            lessons.append(Lesson("issuer.name", issuer.name, road))
    subject = _better_text(known.subject, incoming.subject)
    if subject != known.subject:
        updates["subject"] = subject
        lessons.append(Lesson("subject", subject, road))
    if known.type_name is None and incoming.type_name is not None:
        updates["type_name"] = incoming.type_name
        lessons.append(Lesson("type_name", incoming.type_name, road))
    if _is_blank_signer(known) and not _is_blank_signer(incoming):
        assert incoming.signer is not None
        updates["signer"] = incoming.signer
        lessons.append(
            Lesson("signer", incoming.signer.name or incoming.signer.position or "", road)
        )
    if known.due_on is None and incoming.due_on is not None:
        updates["due_on"] = incoming.due_on
        lessons.append(Lesson("due_on", incoming.due_on.isoformat(), road))
    if not updates:
        return known, ()
    return known.model_copy(update=updates), tuple(lessons)


def _better_text(current: str, other: str) -> str:
    if not same_text(current, other):
        return current  # a disagreement between roads, not a better writing
    return _better(current, other, text_rank) or current


def _better(
    current: str | None, other: str | None, rank: Callable[[str], tuple[Any, ...]]
) -> str | None:
    """The better of two writings of one value: a writing in a legacy font never beats the
    readable text it decodes to; otherwise the higher `rank`."""
    if other is None or other == current:
        return current
    if current is None:
        return other
    current_legacy, other_legacy = (
        legacy_writing_of(current, other),
        legacy_writing_of(other, current),
    )
    if current_legacy != other_legacy:
        return other if current_legacy else current
    return max(current, other, key=rank)  # both readable, or both legacy (TCVN3 and VNI)


def _is_blank_signer(doc: Document) -> bool:
    signer = doc.signer
    return signer is None or not (signer.name or signer.position)


def correction_note(lessons: tuple[Lesson, ...] | list[Lesson]) -> str:
    """What the home system's clerk is told about a correction: which road taught what,
    Vietnamese first, English beside."""
    by_road: dict[str, list[Lesson]] = {}
    for lesson in lessons:
        by_road.setdefault(lesson.road, []).append(lesson)
    parts = []
    for road, taught in by_road.items():
        vi = ", ".join(f"{FIELD_LABELS[t.field][0]} «{t.value}»" for t in taught)
        en = ", ".join(f"{FIELD_LABELS[t.field][1]} «{t.value}»" for t in taught)
        parts.append(f"Bổ sung theo đường {road}: {vi} / completed from road {road}: {en}")
    return "; ".join(parts)
