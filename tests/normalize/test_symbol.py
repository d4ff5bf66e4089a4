"""Số/ký hiệu parsing, number and notation normalization, type names."""

from __future__ import annotations

import pytest

from bridge.normalize import (
    Symbol,
    normalize_notation,
    normalize_number,
    parse_symbol,
    type_name_for,
)


@pytest.mark.parametrize(
    ("text", "number", "notation"),
    [
        ("Số: 335/UBND-HC", "335", "UBND-HC"),
        ("335 /UBND - HC", "335", "UBND-HC"),
        ("số 335/ubnd–hc", "335", "UBND-HC"),
        ("335/UBND\u2011HC", "335", "UBND-HC"),
        ("335/UBND\u2014HC", "335", "UBND-HC"),
        ("HỎA TỐC 335/UBND-HC", "335", "UBND-HC"),
        ("Thượng khẩn - 07/QĐ-UBND", "7", "QĐ-UBND"),
        ("7816/VPCP-TT\u00d0T", "7816", "VPCP-TTĐT"),
        ("012a/QĐ-UBND", "12a", "QĐ-UBND"),
        ("Số: 0001/SY-UBND", "1", "SY-UBND"),
        ("78/GM-STC - Mời họp triển khai", "78", "GM-STC"),
        ("số 371/UBND-NC ngày 10/03/2023", "371", "UBND-NC"),
        ("Sè: 388/STC-NS", "388", "STC-NS"),
    ],
)
def test_parse_symbol_variants(text: str, number: str, notation: str) -> None:
    """Prefixes, spacing, dashes, case, urgency words and Ð give one number and notation."""
    symbol = parse_symbol(text)
    assert (symbol.number, symbol.notation) == (number, notation)


def test_normative_year_and_type() -> None:
    """A legal normative symbol keeps its year in notation and reports it."""
    assert parse_symbol("30/2020/NĐ-CP") == Symbol("30", "2020/NĐ-CP", 2020, "NĐ", "CP")


def test_type_and_organ_parts() -> None:
    """Typed documents report type abbreviation and organ; công văn has no type."""
    assert parse_symbol("12/QĐ-UBND") == Symbol("12", "QĐ-UBND", None, "QĐ", "UBND")
    assert parse_symbol("12/QyĐ-UBND").type_abbr == "QYĐ"
    assert parse_symbol("335/UBND-HC") == Symbol("335", "UBND-HC", None, None, "UBND")
    assert parse_symbol("1/TTr-UBND-VP").notation == "TTR-UBND-VP"


def test_number_without_notation() -> None:
    """A bare number parses with no notation."""
    assert parse_symbol("Số 12") == Symbol("12", None)


@pytest.mark.parametrize("text", ["", "   ", "Số:", "V/v triển khai", "UBND-HC"])
def test_no_number_raises(text: str) -> None:
    """Text without a number raises ValueError."""
    with pytest.raises(ValueError, match="no document number"):
        parse_symbol(text)


def test_normalize_number() -> None:
    """Leading zeros go, a letter suffix stays, None stays None."""
    assert normalize_number("007") == "7"
    assert normalize_number("0") == "0"
    assert normalize_number(" 12A ") == "12a"
    assert normalize_number(None) is None
    assert normalize_number("") is None


def test_normalize_notation() -> None:
    """Upper case, ASCII hyphens, Đ, no spaces; blank → None."""
    assert normalize_notation(" ubnd – vp ") == "UBND-VP"
    assert normalize_notation("TTÐT") == "TTĐT"
    assert normalize_notation("2020 / NĐ - CP") == "2020/NĐ-CP"
    assert normalize_notation("  ") is None
    assert normalize_notation(None) is None


@pytest.mark.parametrize(
    ("name", "abbr", "expected"),
    [
        ("CÔNG VĂN", None, "Công văn"),
        ("quyết định", "QĐ", "Quyết định"),
        (None, "QĐ", "Quyết định"),
        (None, "QYĐ", "Quy định"),
        (None, "qyđ", "Quy định"),
        (None, "TTR", "Tờ trình"),
        (None, "CV", None),
        (None, "SY", "Bản sao y"),
        ("Công văn", "CT", "Công văn"),
        (None, None, None),
        ("Nghị quyết (cá biệt)", None, "Nghị quyết"),
        ("Giấy uỷ quyền", None, "Giấy ủy quyền"),
    ],
)
def test_type_name_for(name: str | None, abbr: str | None, expected: str | None) -> None:
    """A stated name wins; abbreviations compare case-folded; CV is not a type."""
    assert type_name_for(name, abbr) == expected
