"""The normalization gaps independent test beds found (issue 17), each pinned down: organ names
shortened by Decree 30 conventions, names typed in capitals, Party committees, notations in
symbol-only fields, mail subjects and legacy fonts, codes, repairs that change the script,
and VISCII."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adapters.mailbox.parse import from_subject
from adapters.moffice.mapping import to_document as moffice_document
from bridge.normalize import (
    canonical_organ_name,
    clean_subject,
    clean_text,
    normalize_code,
    normalize_notation,
    organ_name_key,
    parse_symbol,
    repair_field,
)
from bridge.normalize.legacy import VISCII_TABLE
from bridge.normalize.organs import fuller_name, is_short_form, looks_short
from bridge.normalize.syllables import is_vietnamese_syllable
from bridge.normalize.text import is_vietnamese_latin
from schemas import RawRecord

SHORT_FORMS = [
    ("HND huyện Vân Đồn", "Hội Nông dân huyện Vân Đồn"),
    ("BHXH huyện Tiểu Cần", "Bảo hiểm xã hội huyện Tiểu Cần"),
    ("Phòng NV huyện Tiểu Cần", "Phòng Nội vụ huyện Tiểu Cần"),
    ("Phòng VH&TT huyện Vân Đồn", "Phòng Văn hóa và Thông tin huyện Vân Đồn"),
    ("Phòng VHTT huyện Vân Đồn", "Phòng Văn hóa và Thông tin huyện Vân Đồn"),
    ("Bộ TC", "Bộ Tài chính"),
    ("Bộ NV", "Bộ Nội vụ"),
    ("Điện lực Quảng Ninh", "Công ty Điện lực Quảng Ninh"),
    ("HND HUYỆN VÂN ĐỒN", "Hội Nông dân huyện Vân Đồn"),
    ("PHÒNG VH&TT HUYỆN VÂN ĐỒN", "PHÒNG VĂN HÓA VÀ THÔNG TIN HUYỆN VÂN ĐỒN"),
]
NOT_SHORT_FORMS = [
    ("Bộ TC", "Bộ Tư pháp"),
    ("Phòng NV huyện Vân Đồn", "Phòng Nội vụ huyện Tiểu Cần"),
    ("HND huyện Vân Đồn", "Hội Nông dân tỉnh Quảng Ninh"),
    ("Điện lực Quảng Ninh", "Công ty Điện lực Thái Bình"),
    ("Phòng VH&TT huyện Vân Đồn", "Phòng Văn hóa huyện Vân Đồn"),
    ("Ủy ban nhân dân xã Hạ Long", "Ủy ban nhân dân huyện Hạ Long"),
    ("Bộ Tài chính", "Bộ Tài chính"),
]


@pytest.mark.parametrize(("short", "full"), SHORT_FORMS)
def test_decree_30_short_forms_are_recognised(short: str, full: str) -> None:
    """Initials of the words of a name, and a generic head dropped, shorten the full name;
    the full name is the one kept."""
    assert is_short_form(short, full)
    assert not is_short_form(full, short)
    assert fuller_name(short, full) == full and fuller_name(full, short) == full


@pytest.mark.parametrize(("short", "full"), NOT_SHORT_FORMS)
def test_other_organs_are_no_short_form(short: str, full: str) -> None:
    """Other initials, another place, a missing word or the same name: no short form."""
    assert not is_short_form(short, full)


def test_initials_survive_a_name_typed_in_capitals() -> None:
    """ "HND HUYỆN VÂN ĐỒN" is re-cased with its initials kept, never "Hnd huyện …"."""
    assert canonical_organ_name("HND HUYỆN VÂN ĐỒN") == "HND huyện Vân Đồn"
    assert canonical_organ_name("BỘ TC") == "Bộ TC"
    assert canonical_organ_name("PHÒNG VH&TT HUYỆN TIỂU CẦN") == "Phòng VH&TT huyện Tiểu Cần"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Văn phòng tỉnh ủy", "Văn phòng Tỉnh ủy"),
        ("Văn phòng Tỉnh ủy", "Văn phòng Tỉnh ủy"),
        ("VĂN PHÒNG TỈNH ỦY", "Văn phòng Tỉnh ủy"),
        ("Văn phòng Tỉnh uỷ", "Văn phòng Tỉnh ủy"),
        ("Ban Tổ chức huyện ủy Vân Đồn", "Ban Tổ chức Huyện ủy Vân Đồn"),
        ("Đảng ủy xã Hạ Long", "Đảng ủy xã Hạ Long"),
        ("Thành ủy Hạ Long", "Thành ủy Hạ Long"),
    ],
)
def test_party_committees_are_proper_names(written: str, canonical: str) -> None:
    """Tỉnh ủy, Huyện ủy, Thành ủy, Đảng ủy: capital first word, lowercase ủy."""
    assert canonical_organ_name(written) == canonical


SEGMENTS = st.sampled_from(["HD", "BTC", "UBND", "THNV", "QĐ", "KH", "SNV", "VP", "TTĐT"])
DASHES = st.sampled_from(["-", " - ", "- ", " -", "–", " – ", "\u2011", "—"])


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 9999),
    st.lists(SEGMENTS, min_size=1, max_size=3),
    st.lists(DASHES, min_size=2, max_size=2),
    st.sampled_from(["", "Số:", "Số: ", "số ", "HỎA TỐC "]),
    st.booleans(),
)
def test_symbol_only_field_keeps_every_segment(
    number: int, segments: list[str], dashes: list[str], prefix: str, lower: bool
) -> None:
    """A field that holds only the số/ký hiệu keeps every segment, in any case and with any
    dash spacing ("Số:236/ hd - btc" → 236, HD-BTC)."""
    first, *rest = segments
    notation = first + "".join(d + s for d, s in zip(dashes * 2, rest, strict=False))
    printed = f"{prefix}{number}/ {notation.lower() if lower else notation}"
    symbol = parse_symbol(printed, whole=True)
    assert symbol.number == str(number)
    assert symbol.notation == "-".join(segments)


def test_lowercase_spaced_symbol_is_read_whole() -> None:
    """The case the test bed found."""
    assert parse_symbol("Số:236/ hd - btc", whole=True).notation == "HD-BTC"
    assert moffice_notation("1424/ ubnd - thnv") == "UBND-THNV"


def moffice_notation(so_ky_hieu: str) -> str | None:
    item = json.dumps(
        {
            "id": 1,
            "so_ky_hieu": so_ky_hieu,
            "co_quan_ban_hanh": "UBND huyện Vân Đồn",
            "ngay_ban_hanh": "05/03/2024",
            "trich_yeu": "V/v thử",
        },
        ensure_ascii=False,
    )
    record = RawRecord(
        source="s",
        unit="u",
        external_id="1",
        version="1",
        media_type="application/json",
        payload=item.encode(),
        received_at=dt.datetime.now(dt.UTC),
    )
    return moffice_document(record).notation


@pytest.mark.parametrize(
    ("subject", "number", "notation"),
    [
        ("số 111/BC\u2011SNV ngày 22/12/2023 Báo cáo sơ kết", "111", "BC-SNV"),
        ("[Văn bản đến] KH 51/KH\u2011STC (31/07/2023)", "51", "KH-STC"),
        ("189 /QĐ - UBND - Về việc thành lập Ban Chỉ đạo", "189", "QĐ-UBND"),
        ("358/ UBND - KT - V/v triển khai gửi, nhận văn bản", "358", "UBND-KT"),
        ("[Văn bản đến] CV 17 /UBND - KT (04/01/2024)", "17", "UBND-KT"),
    ],
)
def test_mail_subject_reads_the_whole_notation(subject: str, number: str, notation: str) -> None:
    """Non-breaking hyphens and spaced dashes inside a subject's symbol keep every segment;
    the trích yếu after it ("Về việc …", "V/v …") is not taken for one."""
    ref = from_subject(subject)
    assert (ref.number, ref.notation) == (number, notation)


def test_mail_subject_keeps_its_text_as_written() -> None:
    """Dashes are unified only to read the symbol: the trích yếu keeps its own."""
    ref = from_subject("335/UBND-HC \u2013 V/v kế hoạch 2024 \u2013 2025")
    assert ref.subject == "V/v kế hoạch 2024 \u2013 2025"


@pytest.mark.parametrize(
    ("written", "notation"),
    [
        ("QÑ-UBND", "QĐ-UBND"),
        ("qñ-ubnd", "QĐ-UBND"),
        ("Q§-UBND", "QĐ-UBND"),
        ("QÐ—UBND", "QĐ-UBND"),
    ],
)
def test_legacy_d_in_a_short_notation_is_decoded(written: str, notation: str) -> None:
    """VNI (Ñ), TCVN3 (§) and the eth look-alike with an em dash all read as QĐ-UBND."""
    assert normalize_notation(clean_text(written)) == notation
    assert moffice_notation(f"192/{written}") == notation


def test_repair_never_changes_the_script() -> None:
    """ "QÐ—UBND" looks like UTF-8 read as Latin-1 ("З" is D0 97), yet no repair may turn
    Latin into Cyrillic."""
    repaired = repair_field("QÐ—UBND")
    assert is_vietnamese_latin(repaired.text)
    assert "\u0417" not in (clean_text("Số 12/QÐ—UBND ngày 5/3/2024") or "")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="latin-1") | st.sampled_from("—–‘’“”€™"), max_size=40))
def test_every_repair_yields_vietnamese_latin(text: str) -> None:
    """Whatever the input, a text that was repaired is written in Vietnamese Latin."""
    repaired = repair_field(text)
    if repaired.encoding != "unicode":
        assert is_vietnamese_latin(repaired.text)


@pytest.mark.parametrize("raw", ["000.14.31.h59", " 000.14.31.H59 ", "\t000.14.31.h59\n"])
def test_codes_are_normalized(raw: str) -> None:
    """Lowercase or padded codes compare and travel as 000.14.31.H59."""
    assert normalize_code(raw) == "000.14.31.H59"


PHRASES = [
    "Ủy ban nhân dân tỉnh Quảng Ninh",
    "Báo cáo kết quả thực hiện nhiệm vụ",
    "Nguyễn Thị Hương",
    "Lưu trữ hồ sơ",
    "Kế hoạch phòng chống thiên tai năm 2024",
    "Trần Văn Hùng",
    "Giấy mời họp",
]


def _viscii(text: str) -> str:
    iconv = shutil.which("iconv")
    assert iconv is not None
    out = subprocess.run(
        [iconv, "-f", "UTF-8", "-t", "VISCII"],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=10,
    ).stdout
    return out.decode("latin-1")


@pytest.mark.parametrize("phrase", PHRASES)
def test_viscii_text_is_read_as_viscii(phrase: str) -> None:
    """VISCII read as Latin-1 is detected as VISCII (not VNI or TCVN3) and converts exactly."""
    repaired = repair_field(_viscii(phrase))
    assert (repaired.encoding, repaired.text) == ("viscii", phrase)


def test_viscii_table_agrees_with_glibc_iconv() -> None:
    """Each VISCII table entry equals glibc iconv's VISCII reading of that byte."""
    iconv = shutil.which("iconv")
    assert iconv is not None
    for byte, letter in VISCII_TABLE.items():
        out = subprocess.run(
            [iconv, "-f", "VISCII", "-t", "UTF-8"],
            input=bytes([byte]),
            capture_output=True,
            check=True,
            timeout=10,
        ).stdout.decode()
        assert out == letter, hex(byte)


def test_unsure_reading_is_not_repaired() -> None:
    """Two encodings reading one text equally well: the text is left as it came."""
    assert repair_field("Müller España").encoding == "unicode"
    assert repair_field("hoà bình").text == "hoà bình"


@pytest.mark.parametrize(
    ("written", "subject"),
    [
        ("Kế hoạch thực hiện năm 2023.", "Kế hoạch thực hiện năm 2023"),
        ("V/v tăng cường công tác . ", "V/v tăng cường công tác"),
        ("Báo cáo tháng 5...", "Báo cáo tháng 5..."),
    ],
)
def test_trich_yeu_without_closing_full_stop(written: str, subject: str) -> None:
    """A trích yếu carries no closing full stop (an ellipsis stays)."""
    assert clean_subject(written) == subject


def test_short_and_full_names_keep_distinct_keys() -> None:
    """A short form is matched by the convention, not by folding it into the same key."""
    assert organ_name_key("Bộ TC") != organ_name_key("Bộ Tài chính")


NAME_WORDS = st.sampled_from(
    ["Nội", "vụ", "Tài", "chính", "Văn", "hóa", "Thông", "tin", "An", "toàn", "Hà", "Đào",
     "tạo", "Ấp", "Bắc", "Y", "tế", "Lao", "động", "Dân", "tộc", "Ô", "Môn", "Ủy"]
)  # fmt: skip
HEADS = st.sampled_from(["Phòng", "Sở", "Bộ", "Ban", "Trung tâm", "Hội", "Chi cục"])
PLACES = st.sampled_from(["", " huyện Vân Đồn", " tỉnh Quảng Ninh", " xã Ô Môn"])


@settings(max_examples=300, deadline=None)
@given(HEADS, st.lists(NAME_WORDS, min_size=2, max_size=5), PLACES, st.data())
def test_any_run_of_words_written_as_initials_is_a_short_form(
    head: str, words: list[str], place: str, data: st.DataObject
) -> None:
    """Writing any run of two or more consecutive words of a name as their initials (the name
    in capitals or not) gives a short form of it."""
    full = f"{head} {' '.join(words)}{place}"
    start = data.draw(st.integers(0, len(words) - 2))
    end = data.draw(st.integers(start + 2, len(words)))
    initials = "".join(w[0].upper() for w in words[start:end])
    short = " ".join([head, *words[:start], initials, *words[end:]]) + place
    assume(looks_short(short))  # not one of domain.md's table ("Sở TTTT") that expands itself
    # in a name typed all in capitals, initials that spell a syllable ("NA") read as a word
    shout = data.draw(st.booleans()) and not is_vietnamese_syllable(initials)
    assert is_short_form(short.upper() if shout else short, full)
    assert fuller_name(short, full) == full


@settings(max_examples=200, deadline=None)
@given(HEADS, st.lists(NAME_WORDS, min_size=2, max_size=5), PLACES, st.data())
def test_initials_of_other_words_are_no_short_form(
    head: str, words: list[str], place: str, data: st.DataObject
) -> None:
    """Initials with one letter that is no initial of the words they stand for, or a place
    changed, never shorten the name."""
    full = f"{head} {' '.join(words)}{place}"
    initials = "".join(w[0].upper() for w in words)
    wrong = data.draw(st.sampled_from([c for c in "GKQXZ" if c not in initials]))
    index = data.draw(st.integers(0, len(initials) - 1))
    short = f"{head} {initials[:index]}{wrong}{initials[index + 1 :]}{place}"
    assert not is_short_form(short, full)
    assert not is_short_form(f"{head} {initials} huyện Tiên Yên", full)
