"""Hypothesis at the matcher level: two M-Office items differing only by the formatting
variants contract.md names are judged one document by the Matcher on a real store."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.moffice.mapping import to_document
from bridge.store import SqliteStore
from schemas import RawRecord
from tests.dedup.helpers import Desk

NOTATIONS = st.sampled_from(["UBND-HC", "QĐ-UBND", "KH-SGDĐT", "TTĐT-VPCP"])
ISSUERS = st.sampled_from(
    [
        ("Ủy ban nhân dân huyện Vân Đồn", "UBND huyện Vân Đồn"),
        ("Ủy ban nhân dân tỉnh Quảng Ninh", "Uỷ ban nhân dân tỉnh Quảng Ninh"),
        ("Sở Thông tin và Truyền thông tỉnh Quảng Ninh", "Sở TT&TT tỉnh Quảng Ninh"),
        ("Hội đồng nhân dân xã Đoàn Kết", "HĐND xã Đoàn Kết"),
    ]
)
SUBJECT = "V/v thực hiện chế độ báo cáo định kỳ về bảo hiểm y tế học sinh, sinh viên"


def _variant(kind: int, number: int, notation: str, day: dt.date) -> tuple[str, str]:
    """(printed số/ký hiệu, printed date) in one of the contract's formatting variants."""
    spaced = notation.replace("-", " - ")
    return [
        (f"{number}/{notation}", day.strftime("%d/%m/%Y")),
        (f"Số: {number:04d}/{notation}", f"{day.day}-{day.month}-{day.year}"),
        (f"{number} /{spaced}", day.isoformat()),
        (f"{number}/{notation.replace('-', '–')}", day.strftime("%Y/%m/%d")),
        (f"{number}/{notation.lower()}", f"ngày {day.day} tháng {day.month} năm {day.year}"),
        (f"{number}/{notation.replace('Đ', 'Ð')}", day.strftime("%d/%m/%Y")),
        (unicodedata.normalize("NFD", f"Số {number}/{notation}"), day.strftime("%d/%m/%Y")),
    ][kind]


def _record(n: int, printed: str, date: str, issuer: str, subject: str) -> RawRecord:
    item = {
        "id": n,
        "so_ky_hieu": printed,
        "ngay_ban_hanh": date,
        "co_quan_ban_hanh": issuer,
        "ma_co_quan": None,
        "loai_van_ban": "Công văn",
        "trich_yeu": subject,
        "do_khan": "Thường",
        "do_mat": "Thường",
        "tep_dinh_kem": [],
    }
    return RawRecord(
        source=f"moffice-{n}",
        unit="000.15.33.H49",
        external_id=str(n),
        version="1",
        media_type="application/json",
        payload=json.dumps(item, ensure_ascii=False).encode(),
        received_at=dt.datetime.now(dt.UTC),
    )


async def _judged_one(first: RawRecord, second: RawRecord) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        async with SqliteStore(Path(tmp) / "s.sqlite3") as store:
            desk = Desk(store)
            a = await desk.feed(to_document(first))
            b = await desk.feed(to_document(second))
            assert b.document_id == a.document_id, b.decision
            return a.outcome, b.outcome


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=9999),
    NOTATIONS,
    st.dates(min_value=dt.date(2005, 1, 1), max_value=dt.date(2030, 12, 31)),
    ISSUERS,
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=0, max_value=6),
    st.booleans(),
)
def test_formatting_variants_are_one_document(
    number: int,
    notation: str,
    day: dt.date,
    issuer: tuple[str, str],
    first_kind: int,
    second_kind: int,
    nfd_subject: bool,
) -> None:
    """Prefix, padding, spacing, dashes, case, NFD, Ð, date format, abbreviated or old-tone
    issuer names and subject normal form leave the Matcher's judgement: one document."""
    subject = unicodedata.normalize("NFD", SUBJECT) if nfd_subject else SUBJECT
    first = _record(1, *_variant(first_kind, number, notation, day), issuer[0], SUBJECT)
    second = _record(2, *_variant(second_kind, number, notation, day), issuer[1], subject)
    outcomes = asyncio.run(_judged_one(first, second))
    assert outcomes == ("document", "duplicate")


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=1, max_value=9999), NOTATIONS, st.integers(min_value=1, max_value=5))
def test_another_year_is_another_document(number: int, notation: str, years: int) -> None:
    """The same number and symbol of the same issuer in another year is another document."""
    day = dt.date(2020, 3, 5)
    later = day.replace(year=2020 + years)

    async def judge() -> bool:
        with tempfile.TemporaryDirectory() as tmp:
            async with SqliteStore(Path(tmp) / "s.sqlite3") as store:
                desk = Desk(store)
                issuer = "Ủy ban nhân dân huyện Vân Đồn"
                a = await desk.feed(
                    to_document(
                        _record(1, f"{number}/{notation}", day.isoformat(), issuer, SUBJECT)
                    )
                )
                b = await desk.feed(
                    to_document(
                        _record(2, f"{number}/{notation}", later.isoformat(), issuer, SUBJECT)
                    )
                )
                return a.document_id != b.document_id and b.outcome == "document"

    assert asyncio.run(judge())
