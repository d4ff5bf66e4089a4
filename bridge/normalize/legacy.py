"""Repair of text that arrived in a legacy encoding, decided per field: double-encoded UTF-8
(mojibake), and TCVN3 (ABC), VNI or VISCII text read back as Latin-1 / Windows-1252.

A conversion is kept only when every word it changes becomes a Vietnamese syllable, its
result is written in the Vietnamese Latin alphabet, and no other encoding reads the text just
as well differently; so correct Vietnamese and foreign names (Müller, España) pass through
untouched, and an ambiguous text is left as it came.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bridge.normalize.frequent import FREQUENT_SYLLABLES
from bridge.normalize.syllables import is_vietnamese_syllable
from bridge.normalize.text import is_vietnamese_latin, normalize_text, place_tones

Encoding = Literal["unicode", "double-utf-8", "tcvn3", "vni", "viscii"]

# TCVN3 (TCVN 5712:1993 VN3) bytes 0xA1-0xFE; "\0" marks bytes TCVN3 leaves unused (the
# larger VN1 charset puts capital toned letters and combining marks there).
# 0xAD is "ư": it reads as the Latin-1 soft hyphen and must never be stripped beforehand.
_TCVN3_HIGH = (
    "ĂÂÊÔƠƯĐăâêôơưđ\0\0\0\0\0\0àảãáạ\0ằẳẵắ\0\0\0\0\0\0\0ặầẩẫấậè\0ẻẽéẹềểễếệìỉ\0\0\0ĩíịò"
    "\0ỏõóọồổỗốộờởỡớợù\0ủũúụừửữứựỳỷỹýỵ"
)
TCVN3_TABLE: dict[int, str] = {
    0xA1 + offset: letter for offset, letter in enumerate(_TCVN3_HIGH) if letter != "\0"
}

# VISCII (RFC 1456) puts six capitals on control bytes and a letter on every byte 0x80-0xFF;
# taken from glibc iconv's VISCII (tests check each entry against it).
_VISCII_HIGH = (
    "ẠẮẰẶẤẦẨẬẼẸẾỀỂỄỆỐỒỔỖỘỢỚỜỞỊỎỌỈỦŨỤỲÕắằặấầẩậẽẹếềểễệốồổỗỠƠộờởịỰỨỪỬơớƯ"
    "ÀÁÂÃẢĂẳẵÈÉÊẺÌÍĨỳĐứÒÓÔạỷừửÙÚỹỵÝỡưàáâãảăữẫèéêẻìíĩỉđựòóôõỏọụùúũủýợỮ"
)
VISCII_TABLE: dict[int, str] = {0x80 + offset: c for offset, c in enumerate(_VISCII_HIGH)} | {
    0x02: "Ẳ",
    0x05: "Ẵ",
    0x06: "Ẫ",
    0x14: "Ỷ",
    0x19: "Ỹ",
    0x1E: "Ỵ",
}

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE = "\u0302", "\u0306"
# VNI mark bytes (as Latin-1 letters) → combining marks they add to the vowel before them.
_VNI_TONES = {"ø": _GRAVE, "ù": _ACUTE, "û": _HOOK, "õ": _TILDE, "ï": _DOT}
_VNI_CIRCUMFLEX = {
    "â": "",
    "à": _GRAVE,
    "á": _ACUTE,
    "å": _HOOK,
    "ã": _TILDE,
    "ä": _DOT,
}
_VNI_BREVE = {"ê": "", "è": _GRAVE, "é": _ACUTE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT}
# VNI letters that stand alone: ư ơ đ ị ỉ ĩ ỵ.
_VNI_SINGLE = {"ö": "ư", "ô": "ơ", "ñ": "đ", "ò": "ị", "æ": "ỉ", "ó": "ĩ", "î": "ỵ"}
_TONES = frozenset(_GRAVE + _ACUTE + _HOOK + _TILDE + _DOT)

# Text that is UTF-8 read as Latin-1/cp1252 holds a lead byte's character right before a
# continuation byte's (0x80-0xBF, or what cp1252 shows for 0x80-0x9F); "Ã " is "à" whose
# no-break space became a space. Plain Vietnamese never does (those are symbols, not letters),
# so ftfy is asked only when this matches.
_CONTINUATION = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_MOJIBAKE_HINT = re.compile(f"[\u00c2-\u00f4][{_CONTINUATION}]|\u00c3 ")
_NOTATION_MARK = "-/0-9\u2010-\u2015\u2212\ufe58\ufe63\uff0d"  # digits, slashes, every dash
_NOTATION_CHUNK = re.compile(
    f"\\S*[{_NOTATION_MARK}]\\S*\u00d0\\S*|\\S*\u00d0\\S*[{_NOTATION_MARK}]\\S*"
)
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class Repair:
    """A field's text after repair, with the encoding it was found in ("unicode": none)."""

    text: str
    encoding: Encoding


def _is_latin1_only(s: str) -> bool:
    """Every character is Latin-1 or has a cp1252 byte (what legacy-font text looks like)."""
    for codec in ("latin-1", "cp1252"):
        try:
            s.encode(codec)
            return True
        except UnicodeEncodeError:
            pass
    return all(ord(c) < 0x100 or _cp1252_byte(c) is not None for c in s)


def _cp1252_byte(c: str) -> int | None:
    try:
        return c.encode("cp1252")[0]
    except UnicodeEncodeError:
        return None


def _byte_of(c: str) -> int:
    return ord(c) if ord(c) < 0x100 else (_cp1252_byte(c) or ord(c))


def decode_tcvn3(s: str) -> str:
    """Read ``s`` (TCVN3 bytes decoded as Latin-1 or cp1252) as TCVN3. Capitals stay ASCII:
    a word typed in capitals (a .VnTimeH heading) comes back in capitals."""
    converted = "".join(TCVN3_TABLE.get(_byte_of(c), c) for c in s)
    if _is_shouting(s):
        return converted.upper()
    return re.sub(r"\S+", lambda m: _restore_caps(s, m), converted)


def _is_shouting(s: str) -> bool:
    ascii_letters = [c for c in s if c.isascii() and c.isalpha()]
    return len(ascii_letters) >= 2 and all(c.isupper() for c in ascii_letters)


def _restore_caps(original: str, match: re.Match[str]) -> str:
    word = match.group(0)
    if _is_shouting(original[match.start() : match.end()]):
        return word.upper()
    return word


def decode_viscii(s: str) -> str:
    """Read ``s`` (VISCII bytes decoded as Latin-1 or cp1252) as VISCII."""
    return "".join(VISCII_TABLE.get(_byte_of(c), c) for c in s)


def decode_vni(s: str) -> str:
    """Read ``s`` (VNI bytes decoded as Latin-1 or cp1252) as VNI: base letters plus marks."""
    out: list[str] = []
    for c in s:
        lower = c.lower()
        marks = _vni_marks(out[-1] if out else "", lower)
        if marks is not None:
            out[-1] = unicodedata.normalize("NFC", unicodedata.normalize("NFD", out[-1]) + marks)
        elif lower in _VNI_SINGLE:
            single = _VNI_SINGLE[lower]
            out.append(single.upper() if c.isupper() else single)
        else:
            out.append(c)
    return unicodedata.normalize("NFC", "".join(out))


def _vni_marks(previous: str, mark: str) -> str | None:
    """The combining marks ``mark`` adds to ``previous``, or None when it is a letter there."""
    if not previous:
        return None
    base = unicodedata.normalize("NFD", previous)
    letter, existing = base[0].lower(), base[1:]
    if letter not in "aeiouy":
        return None
    has_tone = any(m in _TONES for m in existing)
    if mark in _VNI_TONES and not has_tone:
        return _VNI_TONES[mark]
    if existing:
        return None
    if mark in _VNI_CIRCUMFLEX and letter in "aeo":
        return _CIRCUMFLEX + _VNI_CIRCUMFLEX[mark]
    if mark in _VNI_BREVE and letter == "a":
        return _BREVE + _VNI_BREVE[mark]
    return None


def _score(original: str, converted: str) -> int | None:
    """Changed words that became Vietnamese syllables; None if any changed word did not."""
    before, after = original.split(), converted.split()
    if len(before) != len(after):
        return None
    changed = 0
    for old, new in zip(before, after, strict=True):
        if old == new:
            continue
        if not any(c.isalnum() for c in old) and any(ord(c) > 0xFF for c in old):
            return None  # a lone dash or quote ("–", "“") is punctuation, never a letter
        if not all(_is_plausible(word) for word in _WORD.findall(new)):
            return None
        changed += 1
    return changed


def _is_abbreviation(word: str) -> bool:
    """Capital initials such as "VT", "NĐ", "UBND": letters of no syllable, yet Vietnamese."""
    return len(word) >= 2 and word.isupper() and all(c.isascii() or c in "ĐĂÂÊÔƠƯ" for c in word)


def _is_plausible(word: str) -> bool:
    if word.isascii() or _is_abbreviation(word):
        return True
    # a syllable is written in lower case, in capitals, or with a capital first letter
    cased = word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())
    return cased and is_vietnamese_syllable(word)


def _vietnamese_words(text: str) -> int:
    return sum(1 for w in _WORD.findall(text) if not w.isascii() and is_vietnamese_syllable(w))


_GLUED = re.compile("[^\\W\\d_][\u00a1-\u00bf]|[\u00a1-\u00bf][^\\W\\d_]")


def _glued_symbols(text: str) -> int:
    """Latin-1 symbols glued to letters ("Q§", "Tµi" has none, "x©y" one): TCVN3 letters."""
    return sum(1 for chunk in text.split() if _GLUED.search(chunk))


def _looks_vietnamese(converted: str) -> bool:
    words = _WORD.findall(converted)
    return len(words) >= 2 and all(is_vietnamese_syllable(w) or _is_abbreviation(w) for w in words)


_READINGS: tuple[tuple[Encoding, Callable[[str], str]], ...] = (
    ("tcvn3", decode_tcvn3),
    ("vni", decode_vni),
    ("viscii", decode_viscii),
)


def detect_legacy(s: str) -> Repair | None:
    """The TCVN3, VNI or VISCII reading of ``s`` when the evidence is clear, else None.

    Evidence: the text holds only Latin-1/cp1252 characters, every word the reading changes
    becomes a Vietnamese syllable, either two words change or all words are Vietnamese, the
    reading makes more words Vietnamese (or as many, more of them frequent) than the text as
    it came, and it has more frequent syllables (then more syllables) than any other reading
    that differs from it: a tie means the encoding is not known, and nothing is repaired.
    """
    if s.isascii() or not _is_latin1_only(s):
        return None
    # A reading must make more words Vietnamese than the text already has: "hoà bình" is
    # correct Unicode that TCVN3 would also read as syllables ("hoà bỡnh").
    floor_words, floor_frequent = _vietnamese_words(s) - _glued_symbols(s), _frequent_words(s)
    scored: list[tuple[tuple[int, int], Repair]] = []
    for encoding, decode in _READINGS:
        converted = decode(s)
        score = _score(s, converted)
        if score is None or score == 0 or not is_vietnamese_latin(converted):
            continue
        if score < 2 and not _looks_vietnamese(converted):
            continue
        words, frequent = _vietnamese_words(converted), _frequent_words(converted)
        if words > floor_words or (words == floor_words and frequent > floor_frequent):
            scored.append(((frequent, words), Repair(converted, encoding)))
    if not scored:
        return None
    scored.sort(key=lambda item: item[0], reverse=True)
    best_score, best = scored[0]
    rivals = [r for score, r in scored[1:] if score == best_score and r.text != best.text]
    return None if rivals else best


def _frequent_words(text: str) -> int:
    return sum(1 for w in _WORD.findall(place_tones(text).lower()) if w in FREQUENT_SYLLABLES)


def _fold_notation_eth(s: str) -> str:
    """Ð in a notation-like chunk ("30/2020/NÐ-CP", "QÐ-UBND") is the Đ look-alike, never
    TCVN3's "é" (which writes Đ as "§")."""
    if "\u00d0" not in s:
        return s
    return _NOTATION_CHUNK.sub(lambda m: m.group(0).replace("\u00d0", "\u0110"), s)


def repair_field(s: str) -> Repair:
    """Undo a legacy encoding of one field when the evidence is clear; report which one."""
    s = _fold_notation_eth(s)
    if _MOJIBAKE_HINT.search(s):
        import ftfy  # loaded here: ~10 MB, and only text that looks like mojibake needs it

        fixed = ftfy.fix_encoding(s)
        # A repair never changes a text's script: "QÐ—UBND" is no mojibake of "QЗUBND".
        is_letters = any(ord(c) > 0xFF and c.isalpha() for c in fixed)
        if fixed != s and is_letters and is_vietnamese_latin(fixed):
            return Repair(fixed, "double-utf-8")
    legacy = detect_legacy(s)
    if legacy is not None:
        return legacy
    return Repair(s, "unicode")


@functools.lru_cache(maxsize=16384)  # pure; the same names and phrases recur
def clean_text(s: str | None) -> str | None:
    """Repair legacy encodings, NFC, one tone placement, Ð→Đ, whitespace collapsed, stripped.

    None, empty and blank input give None. Idempotent.
    """
    if s is None:
        return None
    cleaned = normalize_text(repair_field(s).text)
    # A repair can expose another layer (mojibake of a legacy font); stop at a fixed point.
    for _ in range(3):
        again = normalize_text(repair_field(cleaned).text)
        if again == cleaned:
            break
        cleaned = again
    return cleaned or None
