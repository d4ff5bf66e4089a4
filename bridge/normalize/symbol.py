"""Số and ký hiệu: parse "Số: 335/UBND-HC" into number, notation, year, type and organ parts.

Also the Decree 30 type table (abbreviation ↔ canonical type name).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bridge.normalize.legacy import clean_text, repair_field
from bridge.normalize.text import (
    ascii_key,
    collapse_spaces,
    fold_key,
    fold_lookalikes,
    normalize_text,
)

# Abbreviations of Decree 30/2020/NĐ-CP (administrative documents and copies) plus the
# legal normative types of the law on legal documents. Keys are case-folded.
_TYPE_BY_ABBR: dict[str, str] = {
    "nq": "Nghị quyết",
    "qđ": "Quyết định",
    "ct": "Chỉ thị",
    "qc": "Quy chế",
    "qyđ": "Quy định",
    "tc": "Thông cáo",
    "tb": "Thông báo",
    "hd": "Hướng dẫn",
    "ctr": "Chương trình",
    "kh": "Kế hoạch",
    "pa": "Phương án",
    "đa": "Đề án",
    "da": "Dự án",
    "bc": "Báo cáo",
    "bb": "Biên bản",
    "ttr": "Tờ trình",
    "hđ": "Hợp đồng",
    "cđ": "Công điện",
    "bgn": "Bản ghi nhớ",
    "btt": "Bản thỏa thuận",
    "guq": "Giấy ủy quyền",
    "gm": "Giấy mời",
    "ggt": "Giấy giới thiệu",
    "gnp": "Giấy nghỉ phép",
    "pg": "Phiếu gửi",
    "pc": "Phiếu chuyển",
    "pb": "Phiếu báo",
    "sy": "Bản sao y",
    "trs": "Bản trích sao",
    "sl": "Bản sao lục",
    "nđ": "Nghị định",
    "tt": "Thông tư",
    "ttlt": "Thông tư liên tịch",
    "nqlt": "Nghị quyết liên tịch",
    "l": "Luật",
    "ptl": "Pháp lệnh",
}

# Type names with no abbreviation, and stated spellings that name a canonical type.
_EXTRA_TYPE_NAMES = ("Công văn", "Thư công", "Văn bản", "Lệnh", "Hiến pháp", "Bộ luật")
_TYPE_NAME_ALIASES: dict[str, str] = {
    "nghi quyet (ca biet)": "Nghị quyết",
    "quyet dinh (ca biet)": "Quyết định",
    "ban sao": "Bản sao y",
    "sao y": "Bản sao y",
    "sao y ban chinh": "Bản sao y",
    "trich sao": "Bản trích sao",
    "sao luc": "Bản sao lục",
}
_TYPE_BY_NAME: dict[str, str] = {
    ascii_key(name): name for name in (*_TYPE_BY_ABBR.values(), *_EXTRA_TYPE_NAMES)
} | _TYPE_NAME_ALIASES

# Legacy-font writings of Đ/đ that survive in a notation typed in capitals: VNI "Ñ"/"ñ",
# TCVN3 "§" (Đ) and "®" (đ). A notation is written in Vietnamese capitals, where none of them
# can occur, so each one is the letter Đ.
_LEGACY_D = str.maketrans(
    {"\u00d1": "\u0110", "\u00f1": "\u0110", "\u00a7": "\u0110", "\u00ae": "\u0110"}
)
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad]")
_SLASHES = re.compile("[\u2044\u2215\uff0f]")
_PREFIX = re.compile(
    r"^\s*(?:(?:v[aă]n\s+b[aả]n\s+)?s[oốôó]\s*(?:k[ýy]\s*hi[ệe]u)?\s*[:.]?\s*)", re.IGNORECASE
)
_URGENCY = re.compile(
    r"^\s*(?:h[oỏ][aả]\s*t[oố]c(?:\s*h[eẹ]n\s*gi[oờ])?|th[uư][oợ]ng\s*kh[aẩ]n|kh[aẩ]n)"
    r"\s*[:.,\-]?\s*",
    re.IGNORECASE,
)
_SEGMENT = r"[^\W_][^\W_&.]*(?:[&.][^\W_]+)*"
_NOTATION_START = re.compile(rf"\s*/\s*({_SEGMENT})")
_NOTATION_MORE = re.compile(rf"(\s*[-/]\s*)({_SEGMENT})")
_LEADING_NUMBER = re.compile(r"\s*([0-9]{1,9})([a-zA-Z]?)(?![^\W\d_])")
_NUMBER_BEFORE_SLASH = re.compile(
    r"(?<![\w/])([0-9]{1,9})([a-zA-Z]?)(?=\s*/\s*(?:[^\W\d_]|(?:19|20)\d\d\s*/))"
)


@dataclass(frozen=True, slots=True)
class Symbol:
    """A parsed số/ký hiệu. ``notation`` keeps every segment after the number."""

    number: str | None
    notation: str | None
    year: int | None = None
    type_abbr: str | None = None
    organ: str | None = None


def unify_marks(s: str) -> str:
    """Every dash (U+2010-2015, minus, soft hyphen…) as "-", every slash as "/", NBSP as a
    space and the Đ look-alikes as Đ: the first step before reading a số/ký hiệu."""
    s = fold_lookalikes(s.replace("\u00a0", " "))
    return _SLASHES.sub("/", _DASHES.sub("-", s))


_unify = unify_marks


def normalize_number(s: str | None) -> str | None:
    """Drop leading zeros and spaces, keep a letter suffix lower-cased ("012A" → "12a")."""
    if s is None:
        return None
    compact = re.sub(r"\s+", "", _unify(s))
    match = re.fullmatch(r"0*(\d+)([A-Za-z]?)", compact)
    if match:
        return (match.group(1).lstrip("0") or "0") + match.group(2).lower()
    return compact or None


@functools.lru_cache(maxsize=16384)  # pure; notations recur ("UBND-VP", "QĐ-UBND")
def normalize_notation(s: str | None) -> str | None:
    """Upper-case ASCII-hyphen notation: "ubnd – hc" → "UBND-HC", "Ð" → "Đ", and the legacy
    writings of Đ ("QÑ-UBND" in VNI, "Q§-UBND" in TCVN3) → "QĐ-UBND". Idempotent."""
    if s is None:
        return None
    text = collapse_spaces(_unify(s).translate(_LEGACY_D))
    text = re.sub(r"\s*([-/])\s*", r"\1", text).strip(" -/.,;:")
    text = re.sub(r"-{2,}", "-", text)
    text = re.sub(r"/{2,}", "/", text)
    text = text.replace(" ", "")
    return text.upper() or None


@functools.lru_cache(maxsize=16384)  # pure; the same names and phrases recur
def type_name_for(name: str | None, abbr: str | None = None) -> str | None:
    """Canonical Decree 30 type name from a stated name (wins) or an abbreviation.

    An unknown stated name is returned cleaned; an unknown abbreviation ("CV") gives None.
    """
    if name is not None and collapse_spaces(name):
        cleaned = clean_text(name)
        if cleaned is not None:
            known = _TYPE_BY_NAME.get(ascii_key(cleaned))
            if known is not None:
                return known
            return cleaned[:1].upper() + cleaned[1:].lower()
    if abbr is None:
        return None
    return _TYPE_BY_ABBR.get(fold_key(_unify(abbr)).strip(" .-"))


def is_type_abbr(segment: str) -> bool:
    """True when ``segment`` is a known document type abbreviation (compared case-folded)."""
    return fold_key(segment) in _TYPE_BY_ABBR


def _strip_prefixes(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _URGENCY.sub("", text, count=1)
        text = _PREFIX.sub("", text, count=1)
    return text


def parse_symbol(text: str, *, whole: bool = False) -> Symbol:
    """Parse a số/ký hiệu as printed ("Số: 335/UBND-HC", "HỎA TỐC 05 / QĐ – UBND").

    ``whole``: the text is a field that holds only the số/ký hiệu, so every segment joined by a
    dash or slash, spaced or not, in any case, belongs to the notation ("236/ hd - btc" →
    "HD-BTC"); otherwise (a mail subject, a sentence) a spaced segment must be in capitals.
    Raises ValueError when no number can be found.
    """
    # dashes and look-alike letters are unified before any repair is tried
    body = _strip_prefixes(_unify(normalize_text(repair_field(_unify(text)).text)))
    match = _LEADING_NUMBER.match(body) or _NUMBER_BEFORE_SLASH.search(body)
    if match is None:
        raise ValueError(f"không tìm thấy số văn bản / no document number in {text!r}")
    number = match.group(1).lstrip("0") or "0"
    number += match.group(2).lower()
    notation = _notation_after(body[match.end() :], whole=whole)
    return _split_notation(number, notation)


def _notation_after(rest: str, *, whole: bool = False) -> str | None:
    """The notation following the number: "/UBND - HC ngày …" → "UBND-HC".

    Segments joined by a bare "-" or "/" always belong to it; across a spaced separator
    only a segment in capitals does ("GM-STC - Mời họp" stops before "Mời").
    """
    head = _NOTATION_START.match(rest)
    if head is None:
        return None
    text = head.group(1)
    position = head.end()
    while True:
        more = _NOTATION_MORE.match(rest, position)
        if more is None:
            break
        segment = more.group(2)
        spaced = more.group(1).strip() != more.group(1)
        if spaced and not (whole or segment.isupper() or segment.isdigit()):
            break
        text += more.group(1).strip() + segment
        position = more.end()
    return normalize_notation(text)


def _split_notation(number: str, notation: str | None) -> Symbol:
    if notation is None:
        return Symbol(number=number, notation=None)
    parts = notation.split("/")
    year: int | None = None
    if len(parts) > 1 and re.fullmatch(r"(19|20)\d\d", parts[0]):
        year = int(parts[0])
        parts = parts[1:]
    segments = [seg for seg in "-".join(parts).split("-") if seg]
    type_abbr: str | None = None
    if segments and is_type_abbr(segments[0]):
        type_abbr = segments.pop(0)
    organ = segments[0] if segments else None
    return Symbol(number=number, notation=notation, year=year, type_abbr=type_abbr, organ=organ)
