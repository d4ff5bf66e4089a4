"""Organ names: expand abbreviations (UBND, HĐND, TP., Sở TT&TT …) to the canonical full name,
and the comparison key in which "&", "và" and nothing are interchangeable.
"""

from __future__ import annotations

import functools
import re

from bridge.normalize.legacy import clean_text
from bridge.normalize.text import fold_key

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


def _recase(name: str) -> str:
    """Sentence case for a name typed in capitals: organ words per convention, place titled."""
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
    return _capitalize((organ.replace("\0", "") + place).strip())


def _title_lowercase_place(name: str) -> str:
    """ "huyện tiểu cần" → "huyện Tiểu Cần" when the place after the last level word is
    written all in lower case."""
    places = list(_LEVEL_AFTER.finditer(name))
    if not places:
        return name
    start = places[-1].end()
    place = name[start:]
    if not place.islower() or len(place.split()) > 4:
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
    return clean_text(_capitalize(expanded))


_CONJUNCTION = re.compile(r"(?:\s*&\s*|\s+và\s+|\s*,\s*|\s+-\s+|-)")


@functools.lru_cache(maxsize=16384)  # pure; the same names and phrases recur
def organ_name_key(name: str | None) -> str | None:
    """Comparison key of an organ name: canonical, folded, with "&", "và", "," and "-"
    between words removed. None/blank → None."""
    canonical = canonical_organ_name(name)
    if canonical is None:
        return None
    return fold_key(_CONJUNCTION.sub(" ", fold_key(canonical)))
