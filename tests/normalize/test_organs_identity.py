"""Organ names, the organ directory, and document identity (contract.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge.normalize import (
    OrganDirectory,
    canonical_organ_name,
    fallback_key,
    fallback_matches,
    identity_of,
    organ_name_key,
    parent_code,
    same_document,
    same_issuer,
    subject_similarity,
)
from schemas.document import Attachment, Document, Organ

DAY = dt.date(2023, 5, 29)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("UBND huyện Tiểu Cần", "Ủy ban nhân dân huyện Tiểu Cần"),
        ("UBND H. TIỂU CẦN", "Ủy ban nhân dân huyện Tiểu Cần"),
        ("UBND TP. Hồ Chí Minh", "Ủy ban nhân dân thành phố Hồ Chí Minh"),
        ("HĐND T. Quảng Ninh", "Hội đồng nhân dân tỉnh Quảng Ninh"),
        ("Sở TTTT tỉnh Quảng Ninh", "Sở Thông tin và Truyền thông tỉnh Quảng Ninh"),
        ("SỞ GD&ĐT TỈNH QUẢNG NINH", "Sở Giáo dục và Đào tạo tỉnh Quảng Ninh"),
        ("VPCP", "Văn phòng Chính phủ"),
        ("Uỷ ban nhân dân xã Đông Xá ", "Ủy ban nhân dân xã Đông Xá"),
    ],
)
def test_canonical_organ_name(raw: str, canonical: str) -> None:
    """Abbreviations expand to the full canonical name with proper capitals."""
    assert canonical_organ_name(raw) == canonical


def test_organ_key_and_conjunctions() -> None:
    """ "&", "và" and nothing are interchangeable in the comparison key."""
    keys = {
        organ_name_key(n)
        for n in ("Sở TT&TT tỉnh Quảng Ninh", "Sở Thông tin Truyền thông tỉnh Quảng Ninh")
    }
    assert len(keys) == 1
    assert organ_name_key("  ") is None


def test_parent_code() -> None:
    """Zeroing the lowest non-zero level gives the parent."""
    assert parent_code("000.00.31.H59") == "000.00.00.H59"
    assert parent_code("000.08.33.H49") == "000.00.33.H49"
    assert parent_code("000.00.00.G22") is None


def _doc(**changes: object) -> Document:
    fields: dict[str, object] = {
        "issuer": Organ(code="000.00.33.H49", name="UBND huyện Vân Đồn"),
        "number": "502",
        "notation": "UBND-NV",
        "issued_on": DAY,
        "subject": "V/v triển khai gửi, nhận văn bản điện tử",
    }
    fields.update(changes)
    return Document.model_validate(fields)


def test_identity_triple() -> None:
    """The triple is number|folded notation|ISO date; missing parts give None."""
    identity = identity_of(_doc(number="0502", notation="ubnd – nv"))
    assert identity is not None
    assert identity.triple == "502|ubnd-nv|2023-05-29"
    assert identity.issuer_code == "000.00.33.H49"
    assert identity.issuer_name_key == "ủy ban nhân dân huyện vân đồn"
    no_number = identity_of(_doc(number=None))
    assert no_number is not None and no_number.triple is None


def test_same_issuer_by_code_then_name() -> None:
    """Codes decide when both have one; otherwise canonical names do."""
    a = identity_of(_doc())
    b = identity_of(_doc(issuer=Organ(name="Ủy ban nhân dân huyện Vân Đồn")))
    c = identity_of(_doc(issuer=Organ(code="000.25.30.H58", name="UBND huyện Vân Đồn")))
    assert a is not None and b is not None and c is not None
    assert same_issuer(a, b)
    assert not same_issuer(a, c)
    assert same_document(a, b)


def test_same_issuer_through_directory_aliases() -> None:
    """An old and a new code of one organ match through the directory."""
    directory = OrganDirectory()
    directory.add("000.00.00.H49", "UBND tỉnh Quảng Ninh", previous=["H49"])
    old = identity_of(_doc(issuer=Organ(code="H49")))
    new = identity_of(_doc(issuer=Organ(code="000.00.00.H49")))
    assert old is not None and new is not None
    assert not same_issuer(old, new)
    assert same_issuer(old, new, directory)
    named = identity_of(_doc(issuer=Organ(name="Ủy ban nhân dân tỉnh Quảng Ninh")))
    assert named is not None and same_issuer(named, old, directory)


def test_other_year_is_another_document() -> None:
    """The same number and notation on another date is another document."""
    a = identity_of(_doc())
    b = identity_of(_doc(issued_on=dt.date(2024, 5, 29)))
    assert a is not None and b is not None and not same_document(a, b)


def test_fallback_key() -> None:
    """Records without a number match by attachment set, else sender, date and subject."""
    sha = "a" * 64
    files = (Attachment(name="x.pdf", size=1, sha256=sha),)
    a = fallback_key(_doc(number=None, attachments=files))
    b = fallback_key(_doc(number=None, attachments=files, subject="Gửi văn bản"))
    assert a is not None and b is not None and fallback_matches(a, b)
    c = fallback_key(_doc(number=None, subject="Về việc triển khai gửi, nhận văn bản điện tử"))
    d = fallback_key(_doc(number=None))
    assert c is not None and d is not None and fallback_matches(c, d)
    e = fallback_key(_doc(number=None, subject="Báo cáo tháng 4"))
    assert e is not None and not fallback_matches(d, e)


def test_subject_similarity() -> None:
    """V/v and Về việc are the same; different subjects score low."""
    assert subject_similarity("V/v họp", "Về việc họp") == 1.0
    assert subject_similarity("Báo cáo tháng 3", "Báo cáo tháng 4") < 1.0
    assert subject_similarity(None, "") == 1.0
