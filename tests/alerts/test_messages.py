"""How alerts read: Vietnamese first, English beside, with the unit, road and since when."""

from __future__ import annotations

import datetime as dt

from bridge.alerts.messages import duration, message
from bridge.alerts.state import Notice
from bridge.domain.alerts import AlertKind, AlertRecord

T0 = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
UNITS = [["000.00.33.H49", "Ủy ban nhân dân huyện Vân Đồn"]]


def test_durations() -> None:
    assert duration(42) == ("42 giây", "42 s")
    assert duration(12 * 60 + 59) == ("12 phút", "12 min")
    assert duration(4 * 3600 + 5 * 60) == ("4 giờ 5 phút", "4 h 5 min")
    assert duration(2 * 86400 + 3 * 3600) == ("2 ngày 3 giờ", "2 d 3 h")


def test_a_home_system_down_reminded_then_back() -> None:
    detail = {"endpoint": "vd-home", "role": "sink", "units": UNITS, "state": "failing"}
    alert = AlertRecord("road:vd-home", AlertKind.ROAD_DOWN, True, T0.isoformat(), detail=detail)
    later = T0 + dt.timedelta(hours=4, minutes=12)
    remind = message(alert, Notice.REMIND, later)
    assert remind.subject == (
        "[lienthong] Nhắc lại: Hệ thống nhận vd-home không kết nối được 4 giờ 12 phút"
        " / Reminder: Home system vd-home down for 4 h 12 min"
    )
    assert "Đơn vị / Unit: Ủy ban nhân dân huyện Vân Đồn (000.00.33.H49)" in remind.text
    assert "Từ lúc / Since: 07/12/2026 10:00 (giờ Việt Nam / Vietnam time)" in remind.text
    assert "Trạng thái / State: không kết nối được / down" in remind.text
    ended = AlertRecord(alert.key, alert.kind, False, alert.since, later.isoformat(), detail=detail)
    end = message(ended, Notice.END, later + dt.timedelta(hours=1))
    assert end.subject == (
        "[lienthong] Đã kết nối lại hệ thống nhận vd-home sau 4 giờ 12 phút"
        " / Home system vd-home back after 4 h 12 min"
    )
    assert end.payload["notice"] == "end" and "Kết thúc / Ended: 07/12/2026 14:12" in end.text


def test_counts_and_overdue_statuses() -> None:
    dead = AlertRecord(
        "dead_letters", AlertKind.DEAD_LETTERS, True, T0.isoformat(), detail={"count": 5, "new": 2}
    )
    assert message(dead, Notice.START, T0).subject == (
        "[lienthong] 2 văn bản mới không chuyển được / 2 new dead letters (5 in all)"
    )
    detail = {"endpoint": "vd-vxp", "count": 3, "units": UNITS}
    owed = AlertRecord(
        "status01:vd-vxp", AlertKind.STATUS_OVERDUE, True, T0.isoformat(), detail=detail
    )
    assert message(owed, Notice.START, T0).subject == (
        "[lienthong] 3 văn bản quá hạn chưa báo 'đã đến' (01) qua vd-vxp"
        " / 3 documents without their 01 'received' past the deadline via vd-vxp"
    )
