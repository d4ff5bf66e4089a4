"""Dates (Vietnam civil dates) and urgency / secrecy labels."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge.normalize import (
    VN_TZ,
    confidentiality_from_label,
    parse_date,
    parse_local_datetime,
    priority_from_label,
)
from schemas.document import Confidentiality, Priority

MARCH_5 = dt.date(2020, 3, 5)


@pytest.mark.parametrize(
    "text",
    [
        "05/03/2020",
        "5/3/2020",
        "5-3-2020",
        "05.03.2020",
        "2020-03-05",
        "2020/03/05",
        "ngày 05 tháng 3 năm 2020",
        "Hà Nội, ngày 05 tháng 03 năm 2020",
        "2020-03-05T00:00:00+07:00",
        "2020-03-04T17:00:00Z",
        "2020-03-05T10:30:00",
    ],
)
def test_parse_date_formats(text: str) -> None:
    """Every documented format reads as 5 March 2020; UTC converts to the Vietnam date."""
    assert parse_date(text) == MARCH_5


def test_utc_before_local_midnight_is_previous_day() -> None:
    """16:59Z is still the same Vietnam day; 17:00Z is the next."""
    assert parse_date("2020-03-04T16:59:00Z") == dt.date(2020, 3, 4)
    assert parse_date("2020-03-04T17:00:00Z") == MARCH_5


@pytest.mark.parametrize("text", ["", "hôm qua", "31/02/2020", "2020-13-01", "32/1/2020"])
def test_parse_date_garbage_raises(text: str) -> None:
    """Garbage and impossible dates raise ValueError."""
    with pytest.raises(ValueError):
        parse_date(text)


def test_parse_local_datetime() -> None:
    """A naive local time gets +07:00; an explicit offset is converted."""
    moment = parse_local_datetime("22/02/2023 16:39:16", "%d/%m/%Y %H:%M:%S")
    assert moment == dt.datetime(2023, 2, 22, 16, 39, 16, tzinfo=VN_TZ)
    assert moment.utcoffset() == dt.timedelta(hours=7)
    utc = parse_local_datetime("2023-02-22T09:39:16+0000", "%Y-%m-%dT%H:%M:%S%z")
    assert utc == moment and utc.utcoffset() == dt.timedelta(hours=7)


@pytest.mark.parametrize(
    ("label", "priority"),
    [
        ("Thường", Priority.THUONG),
        ("THƯỜNG", Priority.THUONG),
        ("khẩn", Priority.KHAN),
        ("THƯỢNG KHẨN", Priority.THUONG_KHAN),
        ("Hoả tốc", Priority.HOA_TOC),
        ("hoa toc", Priority.HOA_TOC),
        ("Hỏa tốc hẹn giờ", Priority.HOA_TOC_HEN_GIO),
        ("2", Priority.THUONG_KHAN),
    ],
)
def test_priority_labels(label: str, priority: Priority) -> None:
    """Urgency labels fold case and tones."""
    assert priority_from_label(label) is priority


@pytest.mark.parametrize(
    ("label", "level"),
    [
        ("Thường", Confidentiality.THUONG),
        ("Mật", Confidentiality.MAT),
        ("TỐI MẬT", Confidentiality.TOI_MAT),
        ("tuyet mat", Confidentiality.TUYET_MAT),
    ],
)
def test_confidentiality_labels(label: str, level: Confidentiality) -> None:
    """Secrecy labels fold case and tones."""
    assert confidentiality_from_label(label) is level


@pytest.mark.parametrize("label", ["bí mật", "bảo mật", "mật khẩu", "mật độ", "URGENT", "9"])
def test_unknown_labels_raise(label: str) -> None:
    """Words merely containing "mật", foreign labels and out-of-range numbers raise."""
    with pytest.raises(ValueError):
        confidentiality_from_label(label)
    with pytest.raises(ValueError):
        priority_from_label(label)
