"""The 01 deadline: the end of the next working day (Mon-Fri, less holidays), Vietnam time."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bridge.alerts.workdays import (
    VIETNAM,
    deadline,
    is_working_day,
    next_working_day,
    overdue_before,
)

TET_2027 = tuple(dt.date(2027, 2, d) for d in range(5, 12))  # Tết Đinh Mùi: Fri 5 to Thu 11 Feb
instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),
    max_value=dt.datetime(2028, 12, 31),
    timezones=st.just(dt.UTC),
)
holiday_sets = st.frozensets(st.dates(dt.date(2025, 1, 1), dt.date(2029, 1, 31)), max_size=40)


def vn(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=VIETNAM)


def test_examples() -> None:
    assert deadline(vn(2026, 12, 7, 10)) == vn(2026, 12, 9)  # Monday: end of Tuesday
    assert deadline(vn(2026, 12, 11, 16)) == vn(2026, 12, 15)  # Friday: end of Monday
    assert deadline(vn(2026, 12, 12, 9)) == vn(2026, 12, 15)  # Saturday: end of Monday
    assert deadline(vn(2026, 12, 13, 23, 59)) == vn(2026, 12, 15)  # Sunday: end of Monday
    # 23:30 UTC on Sunday is Monday 06:30 in Vietnam: the end of Tuesday.
    assert deadline(dt.datetime(2026, 12, 13, 23, 30, tzinfo=dt.UTC)) == vn(2026, 12, 16)
    # Before Tết: Thursday 4 Feb 2027 is due at the end of Friday 12 Feb.
    assert deadline(vn(2027, 2, 4, 15), TET_2027) == vn(2027, 2, 13)
    assert overdue_before(vn(2026, 12, 9, 0, 1)) == vn(2026, 12, 8)  # Monday's are overdue
    assert overdue_before(vn(2026, 12, 14, 12)) == vn(2026, 12, 11)  # Thu's; not Friday's yet
    assert overdue_before(vn(2026, 12, 15, 8)) == vn(2026, 12, 14)  # Fri-Sun's now too


@given(instants, holiday_sets)
def test_the_deadline_is_the_end_of_the_next_working_day(
    arrived: dt.datetime, holidays: frozenset[dt.date]
) -> None:
    due = deadline(arrived, holidays)
    local = due.astimezone(VIETNAM)
    assert due > arrived and local.time() == dt.time(0)
    last_day = local.date() - dt.timedelta(days=1)
    assert is_working_day(last_day, holidays)
    arrival_day = arrived.astimezone(VIETNAM).date()
    between = (arrival_day + dt.timedelta(days=n) for n in range(1, (last_day - arrival_day).days))
    assert not any(is_working_day(d, holidays) for d in between)
    assert next_working_day(arrival_day, holidays) == last_day


@given(instants, instants, holiday_sets)
def test_overdue_before_agrees_with_the_deadline(
    arrived: dt.datetime, now: dt.datetime, holidays: frozenset[dt.date]
) -> None:
    """What the store query counts (arrived before the cutoff) is exactly what is past due."""
    assert (arrived < overdue_before(now, holidays)) == (now >= deadline(arrived, holidays))


@given(instants, instants, holiday_sets)
def test_the_deadline_never_moves_back(
    a: dt.datetime, b: dt.datetime, holidays: frozenset[dt.date]
) -> None:
    first, second = sorted((a, b))
    assert deadline(first, holidays) <= deadline(second, holidays)
