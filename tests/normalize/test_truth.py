"""Normalizers against the labelled corpus: numbers, notations and issuer names of truth.jsonl."""

from __future__ import annotations

import pytest

from bridge.normalize import (
    canonical_organ_name,
    fold_key,
    normalize_notation,
    normalize_number,
    parse_symbol,
)
from tests.normalize.corpus import RawFields, corpus_fields

FIELDS = corpus_fields()


def _id(raw: RawFields) -> str:
    return f"{raw.truth['file']}:{raw.truth['index']}"


def test_corpus_is_read() -> None:
    """The corpus helper finds records of all four listing profiles."""
    profiles = {raw.truth["profile"] for raw in FIELDS}
    assert profiles == {"moffice", "tdoffice", "voffice", "idesk"}
    assert len(FIELDS) >= 50


@pytest.mark.parametrize("raw", [r for r in FIELDS if r.symbol], ids=_id)
def test_symbol_parses_to_truth(raw: RawFields) -> None:
    """parse_symbol of the printed số/ký hiệu gives truth's number and notation."""
    assert raw.symbol is not None
    symbol = parse_symbol(raw.symbol)
    assert symbol.number == raw.truth["number"]
    assert symbol.notation is not None
    assert fold_key(symbol.notation) == fold_key(raw.truth["notation"])
    assert symbol.notation == normalize_notation(raw.truth["notation"])


@pytest.mark.parametrize("raw", [r for r in FIELDS if r.number is not None], ids=_id)
def test_number_and_notation_fields_normalize_to_truth(raw: RawFields) -> None:
    """Separate number and notation fields normalize to truth's values."""
    assert normalize_number(raw.number) == raw.truth["number"]
    assert normalize_notation(raw.notation) == raw.truth["notation"]


@pytest.mark.parametrize("raw", [r for r in FIELDS if r.issuer_name], ids=_id)
def test_issuer_name_is_canonical(raw: RawFields) -> None:
    """canonical_organ_name of the raw issuer name fold-equals truth's issuer_name."""
    canonical = canonical_organ_name(raw.issuer_name)
    assert canonical is not None
    assert fold_key(canonical) == fold_key(raw.truth["issuer_name"])
