"""Dates as Vietnamese documents write them, read as Vietnam civil dates (UTC+07:00)."""

from __future__ import annotations

import datetime as dt
import re

from bridge.normalize.text import ascii_key

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

_DMY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
_YMD = re.compile(r"(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})")
_WORDS = re.compile(r"ngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


def _date(year: str, month: str, day: str, raw: str) -> dt.date:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"ngày không hợp lệ / invalid date {raw!r}") from None


def _from_datetime(match: re.Match[str], raw: str) -> dt.date:
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
        )
    except ValueError:
        raise ValueError(f"ngày không hợp lệ / invalid date {raw!r}") from None
    if offset is None:
        return moment.date()
    if offset.upper() == "Z":
        tz = dt.UTC
    else:
        digits = offset.replace(":", "")
        delta = dt.timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
        tz = dt.timezone(-delta if digits[0] == "-" else delta)
    return moment.replace(tzinfo=tz).astimezone(VN_TZ).date()


def parse_date(s: str) -> dt.date:
    """Read a date: dd/MM/yyyy, d-M-yyyy, yyyy-MM-dd, yyyy/MM/dd, "ngày 05 tháng 3 năm 2020",
    or an RFC 3339 date-time (converted to the Vietnam civil date). Day precedes month.

    Raises ValueError when no valid date is found.
    """
    text = s.strip()
    match = _DATETIME.fullmatch(text)
    if match:
        return _from_datetime(match, s)
    for pattern, order in ((_YMD, (0, 1, 2)), (_DMY, (2, 1, 0))):
        match = pattern.fullmatch(text)
        if match:
            parts = match.groups()
            return _date(parts[order[0]], parts[order[1]], parts[order[2]], s)
    match = _WORDS.search(ascii_key(text))
    if match:
        return _date(match.group(3), match.group(2), match.group(1), s)
    raise ValueError(f"không đọc được ngày / unreadable date {s!r}")


def parse_local_datetime(s: str, fmt: str) -> dt.datetime:
    """Parse ``s`` with ``strptime(fmt)``; a naive result is taken as Vietnam local time.

    An offset in the text is kept and converted to +07:00. Raises ValueError on mismatch.
    """
    moment = dt.datetime.strptime(s.strip(), fmt)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ)
