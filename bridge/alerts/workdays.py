"""Working days in Vietnam (Monday to Friday, less the public holidays the configuration
lists), and the deadline of a 01 "received": the end of the next working day after arrival.

Vietnam keeps one offset all year (UTC+7, Asia/Ho_Chi_Minh, unchanged since 1975), so a fixed
offset is exact and needs no time zone database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

VIETNAM = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
_DAY = dt.timedelta(days=1)
_LONGEST_BREAK = 366  # more days off in a row than this is a configuration mistake


def is_working_day(day: dt.date, holidays: Collection[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def next_working_day(day: dt.date, holidays: Collection[dt.date] = ()) -> dt.date:
    """The first working day after `day`."""
    for n in range(1, _LONGEST_BREAK + 1):
        if is_working_day(candidate := day + n * _DAY, holidays):
            return candidate
    raise ValueError(f"no working day within a year after {day}")


def deadline(arrived: dt.datetime, holidays: Collection[dt.date] = ()) -> dt.datetime:
    """The end (midnight, Vietnam time) of the next working day after the day of `arrived`."""
    due = next_working_day(arrived.astimezone(VIETNAM).date(), holidays)
    return dt.datetime.combine(due + _DAY, dt.time(0), VIETNAM)


def overdue_before(now: dt.datetime, holidays: Collection[dt.date] = ()) -> dt.datetime:
    """At `now`, what arrived before this instant is past its deadline (and nothing later):
    `arrived < overdue_before(now)` exactly when `now >= deadline(arrived)`."""
    today = now.astimezone(VIETNAM).date()
    day = today - _DAY  # the latest arrival day whose next working day is already over
    while next_working_day(day, holidays) >= today:
        day -= _DAY
    return dt.datetime.combine(day + _DAY, dt.time(0), VIETNAM)
