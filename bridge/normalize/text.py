"""Vietnamese text normalization: NFC, one tone placement, look-alike letters, whitespace.

Everything here is pure, total on any ``str`` and idempotent.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Tone marks as combining characters (NFD): grave, acute, tilde, hook above, dot below.
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_MARK_RANGE = "\u0300-\u036f"

_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110"})

# An open syllable ending in oa / oe / uy with the tone on its last vowel ("hoà", "khoẻ",
# "uỷ", "thuý") is written by current documents with the tone on the first ("hòa", "Ủy").
# Closed syllables ("hoàn", "thuyền") and "qu" ("quý") have a single placement.
_NEW_STYLE = re.compile(
    rf"(?<![qQ{_MARK_RANGE}])([oO])([aAeE])([{TONE_MARKS}])(?![\w{_MARK_RANGE}])"
    rf"|(?<![qQ{_MARK_RANGE}])([uU])([yY])([{TONE_MARKS}])(?![\w{_MARK_RANGE}])"
)
_SPACE = re.compile(r"\s+")
# Zero-width and format characters that only ever separate nothing.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def _old_style(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1) + match.group(3) + match.group(2)
    return match.group(4) + match.group(6) + match.group(5)


def fold_lookalikes(s: str) -> str:
    """Map the eth look-alikes (Ð U+00D0, ð U+00F0, Ɖ U+0189) to Đ/đ."""
    return s.translate(_LOOKALIKES)


def place_tones(s: str) -> str:
    """Return ``s`` in NFC with the tone of open oa/oe/uy syllables on the first vowel."""
    decomposed = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFC", _NEW_STYLE.sub(_old_style, decomposed))


def collapse_spaces(s: str) -> str:
    """Collapse every run of whitespace (including NBSP) into one space and strip the ends."""
    return _SPACE.sub(" ", _INVISIBLE.sub("", s)).strip()


def normalize_text(s: str) -> str:
    """NFC, one tone placement, Đ look-alikes folded, whitespace collapsed. No legacy repair."""
    return collapse_spaces(place_tones(fold_lookalikes(s)))


@functools.lru_cache(maxsize=16384)  # pure; the same names and phrases recur
def fold_key(s: str) -> str:
    """Comparison key: NFC, Đ look-alikes, one tone placement, case-folded, spaces collapsed.

    Idempotent; two strings that differ only in those respects get the same key.
    """
    return normalize_text(normalize_text(s).casefold())


def strip_marks(s: str) -> str:
    """Remove every diacritic and map Đ/đ to D/d (Đ has no decomposition)."""
    decomposed = unicodedata.normalize("NFD", fold_lookalikes(s))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.replace("\u0110", "D").replace("\u0111", "d")


_VIETNAMESE_MARKS = frozenset(TONE_MARKS + "\u0302\u0306\u031b")  # tones, circumflex, breve, horn


@functools.lru_cache(maxsize=4096)
def _is_vietnamese_letter(c: str) -> bool:
    if c.isascii() or c in "\u0110\u0111":
        return True
    decomposed = unicodedata.normalize("NFD", c)
    base, marks = decomposed[0], decomposed[1:]
    return base in "aeiouyAEIOUY" and all(m in _VIETNAMESE_MARKS for m in marks)


def is_vietnamese_latin(s: str) -> bool:
    """True when every letter of ``s`` belongs to the Vietnamese Latin alphabet (ASCII letters,
    Đ/đ and vowels with Vietnamese marks). Digits, punctuation and symbols do not count."""
    return all(_is_vietnamese_letter(c) for c in unicodedata.normalize("NFC", s) if c.isalpha())


def ascii_key(s: str) -> str:
    """A coarser key without any diacritics, for matching labels typed without them."""
    return collapse_spaces(strip_marks(s).casefold())
