"""Legacy encodings: TCVN3 and VNI read as Latin-1, double-encoded UTF-8, false positives."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata

import pytest

from bridge.normalize import clean_text, repair_field
from bridge.normalize.legacy import TCVN3_TABLE, decode_tcvn3, decode_vni
from tests.corpus_path import CORPUS as CORPUS_ROOT

LEGACY = [
    json.loads(line) for line in (CORPUS_ROOT / "legacy.jsonl").read_text("utf-8").splitlines()
]


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


@pytest.mark.parametrize("pair", LEGACY, ids=lambda p: p["legacy"][:30])
def test_labelled_pair_converts_exactly(pair: dict[str, str]) -> None:
    """Every labelled legacy string is detected as its encoding and converts exactly."""
    repaired = repair_field(pair["legacy"])
    assert repaired.encoding == pair["encoding"]
    if pair["encoding"] == "tcvn3":
        assert _nfc(repaired.text).casefold() == _nfc(pair["unicode"]).casefold()
    else:
        assert _nfc(repaired.text) == _nfc(pair["unicode"])


def test_tcvn3_table_agrees_with_glibc_iconv() -> None:
    """Each TCVN3 table entry equals glibc iconv's TCVN5712-1 reading of that byte."""
    iconv = shutil.which("iconv")
    assert iconv is not None
    for byte, letter in TCVN3_TABLE.items():
        out = subprocess.run(
            [iconv, "-f", "TCVN5712-1", "-t", "UTF-8"],
            input=bytes([byte]),
            capture_output=True,
            check=True,
            timeout=10,
        ).stdout.decode()
        assert _nfc(out) == letter, hex(byte)


def test_tcvn3_table_covers_all_lowercase_letters() -> None:
    """The table holds 14 base letters and the 60 toned lowercase vowels, ư on 0xAD among them."""
    assert TCVN3_TABLE[0xAD] == "ư"
    assert len(TCVN3_TABLE) == 14 + 60
    assert len(set(TCVN3_TABLE.values())) == len(TCVN3_TABLE)


def test_tcvn3_soft_hyphen_is_u_horn() -> None:
    """The soft hyphen in TCVN3 text becomes ư, never disappears."""
    assert clean_text("L\u00adu: VT.") == "Lưu: VT."
    assert decode_tcvn3("tr\u00ad\u00eang") == "trường"


def test_tcvn3_heading_in_capitals_stays_capital() -> None:
    """A .VnTimeH heading (ASCII capitals plus lowercase toned bytes) comes back in capitals."""
    assert clean_text("CéNG HOµ X· HéI CHñ NGHÜA VIÖT NAM") == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def test_vni_capital_marks() -> None:
    """VNI capital mark bytes after capitals (UÛy, Ñ) convert."""
    assert decode_vni("UÛY BAN NHAÂN DAÂN") == "ỦY BAN NHÂN DÂN"
    assert clean_text("Ñaëng Minh Khoa") == "Đặng Minh Khoa"


def test_double_utf8_is_repaired() -> None:
    """UTF-8 read as cp1252 (and Latin-1) is restored."""
    original = "Ủy ban nhân dân huyện Vân Đồn"
    assert clean_text(original.encode().decode("cp1252", errors="replace")) != original
    assert clean_text(original.encode().decode("latin-1")) == original
    assert repair_field(original.encode().decode("latin-1")).encoding == "double-utf-8"


@pytest.mark.parametrize(
    "text",
    [
        "Müller",
        "España",
        "Jürgen Müller",
        "José María Núñez",
        "Café au lait",
        "São Paulo",
        "Søren Kierkegaard",
        "Ærø",
        "Zoë",
        "Björk Guðmundsdóttir",
        "Ủy ban nhân dân huyện Vân Đồn",
        "Căn cứ Nghị định số 30/2020/NĐ-CP",
        "hoà bình",
        "résumé naïve",
        "35 °C",
        "Ä",
    ],
)
def test_correct_text_is_left_alone(text: str) -> None:
    """Correct Vietnamese and foreign names are not converted."""
    assert repair_field(text).encoding == "unicode"
    assert repair_field(text).text == text


def test_nfd_vietnamese_is_not_legacy() -> None:
    """Decomposed Vietnamese is recomposed, not read as a legacy font."""
    nfd = unicodedata.normalize("NFD", "Thông báo kết quả")
    assert repair_field(nfd).encoding == "unicode"
    assert clean_text(nfd) == "Thông báo kết quả"
