"""Reading a units table leniently: any spelling of a known header (case, diacritics or none,
spaces, `_` or `-`, decomposed letters) names its column; any Vietnamese text comes back the
same from UTF-8, UTF-8 with BOM, UTF-16 or Windows-1258."""

from __future__ import annotations

import codecs
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.unit_table import _decode, canonical_column
from tests.core.test_units_import import to_1258

PROFILES = ("moffice", "idesk", "voffice", "tdoffice", "vxp", "mailbox", "folder")
HEADERS = {
    "Mã đơn vị": "code",
    "Mã định danh": "code",
    "Tên đơn vị": "name",
    "Địa bàn": "area",
    "Quận huyện": "area",
    "Kích hoạt": "enabled",
    "M-Office.Tài khoản": "moffice.username",
    "V-Office.client_secret_file": "voffice.client_secret_file",
    "TD Office.Khóa API": "tdoffice.api_key",
    "Trục liên thông.mã hệ thống": "vxp.system_id",
    "Hệ thống chính.hồ sơ": "home.profile",
    "moffice.Tệp mật khẩu": "moffice.password_file",
    "idesk.Biến mật khẩu": "idesk.password_env",
}
VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)


@st.composite
def spelled(draw: st.DrawFn, header: str) -> str:
    """`header` as someone may have typed it."""
    chars = [c.upper() if draw(st.booleans()) else c for c in header]
    text = "".join(chars)
    if draw(st.booleans()):
        text = text.replace(" ", draw(st.sampled_from(["_", "-", "  "])))
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    if draw(st.booleans()):  # typed without diacritics
        text = "".join(
            c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
        ).translate(str.maketrans("đĐ", "dD"))
    return " " * draw(st.integers(0, 2)) + text + " " * draw(st.integers(0, 2))


@given(st.sampled_from(sorted(HEADERS)).flatmap(lambda h: st.tuples(st.just(h), spelled(h))))
def test_any_spelling_of_a_known_header_names_its_column(pair: tuple[str, str]) -> None:
    header, typed = pair
    assert canonical_column(typed, PROFILES) == HEADERS[header], typed


def test_a_misspelt_road_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ValueError, match="did you mean 'moffice'"):
        canonical_column("mofficce.username", PROFILES)
    assert canonical_column("Ghi chú", PROFILES) is None  # a column of its own: left aside


@given(st.lists(st.text(alphabet=VIETNAMESE + " ,;0123456789.", min_size=1), min_size=1))
def test_vietnamese_text_survives_every_encoding_a_province_uses(cells: list[str]) -> None:
    text = unicodedata.normalize("NFC", ";".join(cells))
    for data in (
        text.encode("utf-8"),
        codecs.BOM_UTF8 + text.encode("utf-8"),
        text.encode("utf-16"),
        to_1258(text),
    ):
        assert _decode(data) == text
