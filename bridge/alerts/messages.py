"""How an alert is worded: Vietnamese first, English beside, naming the unit, the endpoint and
since when (Vietnam time). `message` gives the e-mail's subject and text and the webhook's JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bridge.alerts.state import Notice
from bridge.alerts.workdays import VIETNAM
from bridge.domain.alerts import AlertKind, AlertRecord

PREFIX = "[lienthong]"
STATES = {
    "unknown": "chưa kết nối được từ khi khởi động / not reached since start",
    "backoff": "lỗi, đang thử lại / failing, retrying",
    "failing": "không kết nối được / down",
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    payload: dict[str, Any]


def duration(seconds: float) -> tuple[str, str]:
    """("12 phút", "12 min"), ("4 giờ 5 phút", "4 h 5 min"), ("2 ngày 3 giờ", "2 d 3 h")."""
    minutes = max(int(seconds // 60), 0)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} ngày {hours} giờ", f"{days} d {hours} h"
    if hours:
        return f"{hours} giờ {mins} phút", f"{hours} h {mins} min"
    if minutes:
        return f"{mins} phút", f"{mins} min"
    return f"{int(seconds)} giây", f"{int(seconds)} s"


def local_time(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def _road(a: AlertRecord) -> tuple[str, str]:
    sink = a.detail.get("role") == "sink"
    name = a.detail.get("endpoint", a.key)
    return (
        (f"hệ thống nhận {name}", f"home system {name}")
        if sink
        else (f"nguồn {name}", f"source {name}")
    )


def _headline(a: AlertRecord, notice: Notice, lasted: float) -> tuple[str, str]:
    vi_for, en_for = duration(lasted)
    count = a.detail.get("count", 0)
    if a.kind is AlertKind.ROAD_DOWN:
        vi, en = _road(a)
        if notice is Notice.END:
            return f"Đã kết nối lại {vi} sau {vi_for}", f"{en.capitalize()} back after {en_for}"
        return (
            f"{vi.capitalize()} không kết nối được {vi_for}",
            f"{en.capitalize()} down for {en_for}",
        )
    if a.kind is AlertKind.DEAD_LETTERS:
        if notice is Notice.END:
            return "Đã xử lý các văn bản không chuyển được", "Dead letters handled"
        new = a.detail.get("new", count)
        return f"{new} văn bản mới không chuyển được", f"{new} new dead letters ({count} in all)"
    if a.kind is AlertKind.QUARANTINE:
        if notice is Notice.END:
            return "Đã xử lý các bản ghi bị cách ly", "Quarantine handled"
        new = a.detail.get("new", count)
        return f"{new} bản ghi mới bị cách ly", f"{new} records newly quarantined ({count} held)"
    if a.kind is AlertKind.OUTGOING_OVERDUE:
        if notice is Notice.END:
            return "Nơi nhận đã báo 'đã đến' (01)", "Recipients said 01 'arrived'"
        return (
            f"{count} nơi nhận văn bản đi quá hạn chưa báo 'đã đến' (01)",
            f"{count} recipients of outgoing documents without their 01 past the deadline",
        )
    source = a.detail.get("endpoint", "")
    if notice is Notice.END:
        return (
            f"Đã gửi trạng thái 01 quá hạn qua {source}",
            f"Overdue 01 statuses sent via {source}",
        )
    return (
        f"{count} văn bản quá hạn chưa báo 'đã đến' (01) qua {source}",
        f"{count} documents without their 01 'received' past the deadline via {source}",
    )


def message(a: AlertRecord, notice: Notice, now: dt.datetime) -> Message:
    end = dt.datetime.fromisoformat(a.ended_at) if a.ended_at else now
    lasted = (end - dt.datetime.fromisoformat(a.since)).total_seconds()
    vi, en = _headline(a, notice, lasted)
    again = ("Nhắc lại: ", "Reminder: ") if notice is Notice.REMIND else ("", "")
    subject = f"{PREFIX} {again[0]}{vi} / {again[1]}{en}"
    units = a.detail.get("units", [])
    lines = [
        f"{again[0]}{vi}.",
        f"{again[1]}{en}.",
        "",
        *(f"Đơn vị / Unit: {u[1]} ({u[0]})" if u[1] else f"Đơn vị / Unit: {u[0]}" for u in units),
    ]
    if a.detail.get("endpoint"):
        lines.append(f"Đầu nối / Endpoint: {a.detail['endpoint']}")
    lines.append(f"Từ lúc / Since: {local_time(a.since)} (giờ Việt Nam / Vietnam time)")
    if a.ended_at:
        lines.append(f"Kết thúc / Ended: {local_time(a.ended_at)}")
    if a.firing and a.detail.get("state") in STATES:
        lines.append(f"Trạng thái / State: {STATES[a.detail['state']]}")
    if a.detail.get("last_error"):
        lines.append(f"Lỗi gần nhất / Last error: {a.detail['last_error']}")
    payload = {
        "alert": a.key,
        "kind": a.kind.value,
        "notice": notice.value,
        "since": a.since,
        "ended_at": a.ended_at,
        "summary_vi": vi,
        "summary_en": en,
        "detail": dict(a.detail),
    }
    return Message(subject, "\n".join(lines) + "\n", payload)
