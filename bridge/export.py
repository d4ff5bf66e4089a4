"""CSV export of the documents received in a period, for the monthly reports units write."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

COLUMNS = (
    ("Mã / ID", "id"),
    ("Ngày nhận / Received", "received_at"),
    ("Số, ký hiệu / Number", "symbol"),
    ("Ngày ban hành / Issued", "issued_on"),
    ("Cơ quan ban hành / Issuer", "issuer"),
    ("Mã cơ quan / Issuer code", "issuer_code"),
    ("Loại văn bản / Type", "type_name"),
    ("Trích yếu / Subject", "subject"),
    ("Độ khẩn / Priority", "priority"),
    ("Trạng thái / State", "state"),
    ("Đường đến / Roads", "roads"),
    ("Đơn vị nhận / Units", "units"),
)


def period(start: str | None, end: str | None) -> tuple[str, str]:
    """[start, end + 1 day) as ISO dates; default: the current month. Raises ValueError."""
    today = dt.date.today()
    try:
        first = dt.date.fromisoformat(start) if start else today.replace(day=1)
        last = dt.date.fromisoformat(end) if end else today
    except ValueError:
        raise ValueError("ngày phải có dạng YYYY-MM-DD / dates must be YYYY-MM-DD") from None
    if last < first:
        raise ValueError("'to' trước 'from' / 'to' is before 'from'")
    return first.isoformat(), (last + dt.timedelta(days=1)).isoformat()


def _row(item: dict[str, Any]) -> list[str]:
    doc = item["document"]
    values = {
        "id": str(item["id"]),
        "received_at": item["received_at"],
        "symbol": doc.symbol,
        "issued_on": doc.issued_on.isoformat() if doc.issued_on else "",
        "issuer": doc.issuer.name or "",
        "issuer_code": doc.issuer.code or "",
        "type_name": doc.type_name or "",
        "subject": doc.subject,
        "priority": doc.priority.label,
        "state": item["state"],
        "roads": ", ".join(item["roads"]),
        "units": ", ".join(item["units"]),
    }
    return [values[key] for _, key in COLUMNS]


def csv_rows(items: list[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([title for title, _ in COLUMNS])
    for item in items:
        writer.writerow(_row(item))
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()
