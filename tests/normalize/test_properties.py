"""Hypothesis properties: totality, idempotence, and a triple unchanged by formatting."""

from __future__ import annotations

import contextlib
import datetime as dt
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.normalize import (
    canonical_organ_name,
    clean_text,
    confidentiality_from_label,
    fold_key,
    identity_triple,
    normalize_notation,
    normalize_number,
    organ_name_key,
    parse_date,
    parse_symbol,
    priority_from_label,
    type_name_for,
)

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60
) | st.text(alphabet="aàáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậĐÐð¸µ¶·¹©®«¬\xadöøùûõïñ/-– :0123456789")


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_total_functions_never_raise(text: str) -> None:
    """Text functions accept any text without raising."""
    clean_text(text)
    fold_key(text)
    normalize_notation(text)
    normalize_number(text)
    canonical_organ_name(text)
    organ_name_key(text)
    type_name_for(text, text)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_parsers_raise_only_value_error(text: str) -> None:
    """Parsers raise nothing but their documented ValueError."""
    for parse in (parse_symbol, parse_date, priority_from_label, confidentiality_from_label):
        with contextlib.suppress(ValueError):
            parse(text)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_normalization_is_idempotent(text: str) -> None:
    """clean_text, fold_key and normalize_notation are idempotent."""
    once = clean_text(text)
    assert clean_text(once) == once
    assert fold_key(fold_key(text)) == fold_key(text)
    notation = normalize_notation(text)
    assert normalize_notation(notation) == notation


NB_HYPHEN = "\u2011"
NUMBERS = st.integers(min_value=1, max_value=9999)
NOTATIONS = st.sampled_from(["UBND-HC", "QĐ-UBND", "TTĐT-VPCP", "2020/NĐ-CP", "KH-SGDĐT"])
DATES = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))


def _variants(number: int, notation: str, day: dt.date) -> list[tuple[str, str]]:
    """(printed symbol, printed date) pairs every contract.md formatting variant gives."""
    spaced = notation.replace("-", " - ").replace("/", " / ")
    return [
        (f"{number}/{notation}", day.strftime("%d/%m/%Y")),
        (f"Số: {number:04d}/{notation}", f"{day.day}-{day.month}-{day.year}"),
        (f"{number} /{spaced}", day.isoformat()),
        (f"{number}/{notation.replace('-', '–')}", day.strftime("%Y/%m/%d")),
        (f"{number}/{notation.lower()}", f"ngày {day.day} tháng {day.month} năm {day.year}"),
        (f"{number}/{notation.replace('Đ', 'Ð')}", day.strftime("%d.%m.%Y")),
        (unicodedata.normalize("NFD", f"Số {number}/{notation}"), day.strftime("%d/%m/%Y")),
        (f"HỎA TỐC {number}/{notation.replace('-', NB_HYPHEN)}", day.isoformat()),
        (f"Sè: {number}/{notation.replace('Đ', '§')}", day.isoformat()),
    ]


@settings(max_examples=200, deadline=None)
@given(NUMBERS, NOTATIONS, DATES)
def test_triple_survives_formatting_variants(number: int, notation: str, day: dt.date) -> None:
    """Prefix, spacing, dashes, case, NFD, Ð, TCVN3 and date format leave the triple alone."""
    triples = set()
    for printed, printed_date in _variants(number, notation, day):
        symbol = parse_symbol(printed)
        triples.add(identity_triple(symbol.number, symbol.notation, parse_date(printed_date)))
    assert triples == {f"{number}|{fold_key(notation)}|{day.isoformat()}"}


@given(st.sampled_from(["hoà", "hòa", "Uỷ", "Ủy", "khoẻ", "khỏe", "thuý", "thúy"]))
def test_tone_placement_folds(word: str) -> None:
    """Old and new tone placement give one key; closed syllables and qu are untouched."""
    pairs = {"hoà": "hòa", "uỷ": "ủy", "khoẻ": "khỏe", "thuý": "thúy"}
    key = fold_key(word)
    assert key in pairs.values()
    assert fold_key("quý") == "quý" and fold_key("hoàn") == "hoàn"


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=5))
def test_folding_parts_is_folding_the_joined_text(parts: list[str]) -> None:
    """No fold reaches across a space: the store's search key folds a document's fields one by
    one (cached) and must equal the fold of the joined text."""
    joined = fold_key(" ".join(p for p in parts if p))
    assert " ".join(key for p in parts if p and (key := fold_key(p))) == joined
