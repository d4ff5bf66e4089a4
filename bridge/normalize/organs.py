"""Organ names: expand abbreviations (UBND, HĐND, TP., Sở TT&TT …) to the canonical full name,
the comparison key in which "&", "và" and nothing are interchangeable, and the Decree 30
conventions by which writers shorten a name (`is_short_form`): the initials of its words
("Phòng VH&TT" for "Phòng Văn hóa và Thông tin") and a generic head dropped ("Điện lực X" for
"Công ty Điện lực X"). docs/normalization.md lists the rules.
"""

from __future__ import annotations

import functools
import re

from bridge.normalize.legacy import clean_text
from bridge.normalize.syllables import is_vietnamese_syllable
from bridge.normalize.text import ascii_key, fold_key

_LEVELS = ("thành phố", "thị xã", "thị trấn", "tỉnh", "huyện", "quận", "xã", "phường")
_LEVEL_ABBR: dict[str, str] = {
    "tp": "thành phố",
    "tx": "thị xã",
    "tt": "thị trấn",
    "t": "tỉnh",
    "h": "huyện",
    "q": "quận",
    "x": "xã",
    "p": "phường",
}
# "TP." and "TX." are unambiguous even without their dot; T., H., Q., TT. … need it, and
# all of them only count before a place name (a capital letter or a number).
_LEVEL_PATTERN = re.compile(
    r"(?<![^\W\d_])(?i:(tp|tx)\.?\s*|(tp|tx|tt|t|h|q|x|p)\.\s*)(?=[^\W\d_a-zđ]|\d)"
)
_LEVEL_AFTER = re.compile(r"(?<![^\W\d_])(" + "|".join(_LEVELS) + r")\s+(?=\S)", re.IGNORECASE)

_AND = r"\s*(?:&|và)?\s*"
# Abbreviated organ names (case-folded) and their full forms; longer forms first.
_ORGAN_ABBR: tuple[tuple[str, str], ...] = (
    (r"ubnd", "Ủy ban nhân dân"),
    (r"hđnd", "Hội đồng nhân dân"),
    (rf"sở\s*tt{_AND}tt|sở\s*tttt", "Sở Thông tin và Truyền thông"),
    (rf"sở\s*gd{_AND}đt", "Sở Giáo dục và Đào tạo"),
    (rf"sở\s*kh{_AND}đt", "Sở Kế hoạch và Đầu tư"),
    (rf"sở\s*kh{_AND}cn", "Sở Khoa học và Công nghệ"),
    (rf"sở\s*lđ\s*-?\s*tb{_AND}xh", "Sở Lao động - Thương binh và Xã hội"),
    (rf"sở\s*nn{_AND}ptnt", "Sở Nông nghiệp và Phát triển nông thôn"),
    (rf"sở\s*tn{_AND}mt", "Sở Tài nguyên và Môi trường"),
    (rf"sở\s*vh\s*,?\s*tt{_AND}dl", "Sở Văn hóa, Thể thao và Du lịch"),
    (r"sở\s*gtvt", "Sở Giao thông vận tải"),
    (r"sở\s*tc", "Sở Tài chính"),
    (r"sở\s*nv", "Sở Nội vụ"),
    (r"sở\s*yt", "Sở Y tế"),
    (r"sở\s*xd", "Sở Xây dựng"),
    (r"sở\s*tp", "Sở Tư pháp"),
    (r"phòng\s*tc\s*-?\s*kh", "Phòng Tài chính - Kế hoạch"),
    (rf"bộ\s*tt{_AND}tt|bộ\s*tttt", "Bộ Thông tin và Truyền thông"),
    (r"vpcp", "Văn phòng Chính phủ"),
    (r"vp(?=\s)", "Văn phòng"),
    (r"ttg", "Thủ tướng Chính phủ"),
)
_ORGAN_PATTERNS = tuple(
    (re.compile(rf"(?<![^\W\d_])(?:{pattern})(?![^\W\d_])", re.IGNORECASE), full)
    for pattern, full in _ORGAN_ABBR
)
# Heads of organ names; in a name typed in capitals the word after a head, and after "và",
# "-" or "," within the name, takes a capital ("Sở Giáo dục và Đào tạo").
_HEADS = re.compile(
    r"(?<![^\W\d_])(ủy ban nhân dân|hội đồng nhân dân|văn phòng|phòng|sở|bộ|tổng cục|chi cục"
    r"|cục|ban|trung tâm|hội|viện|trường)(?![^\W\d_])",
)

_AFTER_HEAD = re.compile(r"(\0\s*|\s(?:và|-)\s+|,\s*)([^\W\d_])")


def _expand_levels(name: str) -> str:
    def level(match: re.Match[str]) -> str:
        return _LEVEL_ABBR[(match.group(1) or match.group(2)).lower()] + " "

    return _LEVEL_PATTERN.sub(level, name)


def _expand_organs(name: str) -> str:
    for pattern, full in _ORGAN_PATTERNS:
        name = pattern.sub(full, name)
    return name


def _capitalize(word: str) -> str:
    return word[:1].upper() + word[1:]


_PARTY = re.compile(r"(?<![^\W\d_])(tỉnh|huyện|thành|quận|thị|đảng)\s+(ủy|uỷ)(?![^\W\d_])", re.I)


def _party_committees(name: str) -> str:
    """Party committees are proper names: "tỉnh ủy" → "Tỉnh ủy" (never a level and a place)."""
    return _PARTY.sub(lambda m: _capitalize(m.group(1).lower()) + " ủy", name)


def _is_initials(word: str) -> bool:
    """Two or more capitals, maybe joined by "&", "." or "-" ("HND", "VH&TT", "LĐ-TB&XH")."""
    letters = [p for p in re.split(r"[&.\-]", word) if p]
    return bool(letters) and all(len(p) >= 2 and p.isupper() and p.isalpha() for p in letters)


def _is_acronym(word: str) -> bool:
    """In a name typed all in capitals, initials are the words that spell no syllable ("HND",
    "VH&TT", "NV"; "BAN" is a word): they keep their capitals when the name is re-cased."""
    letters = [p for p in re.split(r"[&.\-]", word) if p]
    return _is_initials(word) and not any(is_vietnamese_syllable(p) for p in letters)


def _recase(name: str) -> str:
    """Sentence case for a name typed in capitals: organ words per convention, place titled,
    initials ("HND", "VH&TT") kept in capitals."""
    acronyms = {w.lower(): w for w in name.split() if _is_acronym(w)}
    lowered = name.lower()
    places = list(_LEVEL_AFTER.finditer(lowered))
    organ, place = lowered, ""
    if places:
        organ, place = lowered[: places[-1].start()], lowered[places[-1].start() :]
        level = places[-1].group(1)
        place = level + " " + " ".join(_capitalize(w) for w in place[len(level) :].split())
    organ = _HEADS.sub(lambda m: m.group(0) + "\0", organ)
    organ = re.sub(
        r"(\0\s*|\s(?:và|-|,)\s+|,\s*)([^\W\d_])", lambda m: m.group(1) + m.group(2).upper(), organ
    )
    recased = _capitalize((organ.replace("\0", "") + place).strip())
    if not acronyms:
        return recased
    return " ".join(acronyms.get(w.lower(), w) for w in recased.split(" "))


def _title_lowercase_place(name: str) -> str:
    """ "huyện tiểu cần" → "huyện Tiểu Cần" when the place after the last level word is
    written all in lower case."""
    places = list(_LEVEL_AFTER.finditer(name))
    if not places:
        return name
    start = places[-1].end()
    place = name[start:]
    if not place.islower() or len(place.split()) > 4 or place.startswith(("ủy", "uỷ")):
        return name
    return name[:start] + " ".join(_capitalize(w) for w in place.split())


def _is_shouting(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return len(letters) > 3 and all(c.isupper() for c in letters)


@functools.lru_cache(maxsize=16384)  # pure; the same names and phrases recur
def canonical_organ_name(name: str | None) -> str | None:
    """The organ's full canonical name: "UBND H. TIỂU CẦN" → "Ủy ban nhân dân huyện Tiểu Cần".

    Abbreviations are expanded only in names (never in a notation); level abbreviations
    (TP., H., Q., TT. …) only before a place name. None/blank → None. Idempotent.
    """
    cleaned = clean_text(name)
    if cleaned is None:
        return None
    expanded = _expand_organs(_expand_levels(cleaned))
    shouting = _is_shouting(cleaned)
    expanded = _recase(expanded) if shouting else _title_lowercase_place(expanded)
    expanded = expanded.replace("ủy ban nhân dân", "Ủy ban nhân dân")
    return clean_text(_party_committees(_capitalize(expanded)))


_CONJUNCTION = re.compile(r"(?:\s*&\s*|\s+và\s+|\s*,\s*|\s+-\s+|-)")


@functools.lru_cache(maxsize=16384)  # pure; the same names and phrases recur
def organ_name_key(name: str | None) -> str | None:
    """Comparison key of an organ name: canonical, folded, with "&", "và", "," and "-"
    between words removed. None/blank → None."""
    canonical = canonical_organ_name(name)
    if canonical is None:
        return None
    return fold_key(_CONJUNCTION.sub(" ", fold_key(canonical)))


# The legal form of an enterprise heads its name and is what writers drop ("Điện lực Thái
# Bình" for "Công ty Điện lực Thái Bình"); longer heads first.
_GENERIC_HEADS = (
    ("tong", "cong", "ty"),
    ("cong", "ty", "co", "phan"),
    ("cong", "ty", "tnhh"),
    ("cong", "ty"),
)
_SEPARATOR = re.compile(r"[\s&,]+|(?<=\S)-(?=\S)|\s-\s")


def generic_head_size(name: str) -> int:
    """How many words of ``name`` are a generic head ("Công ty …" → 2), 0 when none."""
    folded = tuple(ascii_key(w) for w in name.split())
    return next((len(h) for h in _GENERIC_HEADS if folded[: len(h)] == h), 0)


def _words(name: str) -> list[str]:
    """The words of a canonical name without "và", "&", "," and "-" between them."""
    return [w for w in _SEPARATOR.split(name) if w and w.lower() != "và" and w != "-"]


def _initial(word: str) -> str:
    return ascii_key(word)[:1]


def _aligns(short: list[str], full: list[str]) -> bool:
    """Each short word is the full name's next word (case and tone placement aside, marks
    kept), or initials spelling its next words (marks aside: "Đ" of "Đào" is D or Đ)."""
    if not short:
        return not full
    if not full:
        return False
    word = short[0]
    if fold_key(word) == fold_key(full[0]) and _aligns(short[1:], full[1:]):
        return True
    if not _is_initials(word):  # a canonical name: capitals left after re-casing are initials
        return False
    letters = ascii_key(re.sub(r"[&.\-]", "", word))
    span = full[: len(letters)]
    return (
        len(span) == len(letters)
        and all(_initial(w) == c for w, c in zip(span, letters, strict=True))
        and _aligns(short[1:], full[len(letters) :])
    )


@functools.lru_cache(maxsize=16384)  # pure; names recur
def is_short_form(short: str | None, full: str | None) -> bool:
    """True when ``short`` is ``full`` shortened by Decree 30 conventions: words written as
    their initials ("Phòng NV", "BHXH huyện X", "Phòng VH&TT") and/or a generic head dropped
    ("Điện lực X" for "Công ty Điện lực X"). Every other word must be the same (case, tone
    placement and marks aside). False for equal names and for None."""
    first, second = canonical_organ_name(short), canonical_organ_name(full)
    if first is None or second is None or organ_name_key(first) == organ_name_key(second):
        return False
    short_words, full_words = _words(first), _words(second)
    folded = [ascii_key(w) for w in full_words]
    for head in _GENERIC_HEADS:
        if tuple(folded[: len(head)]) == head and [
            ascii_key(w) for w in short_words[: len(head)]
        ] != list(head):
            return _aligns(short_words, full_words[len(head) :])
    return _aligns(short_words, full_words)


def fuller_name(a: str | None, b: str | None) -> str | None:
    """Of two names of one organ, the one the other shortens; ``a`` when neither does."""
    if a is None:
        return b
    return b if is_short_form(a, b) else a


def looks_short(name: str | None) -> bool:
    """True when a canonical name holds initials a directory could resolve ("Bộ TC")."""
    canonical = canonical_organ_name(name)
    return canonical is not None and any(_is_initials(w) for w in _words(canonical))
