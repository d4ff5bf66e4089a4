"""The alert rules: what the bridge sees now, as one observation per alert (pure).

- a road (source or sink) not `ok` — failing, backing off, or not reached since start — for
  `road_down_after` seconds or more is FIRING; `ok` (or no longer configured) is CLEAR;
- dead letters and records in quarantine: FIRING while at least `growth` more are open than at
  the last all clear (the baseline follows the count down while quiet, so what operators
  handled is not counted again);
- status 01 ("received") owed to senders past the end of the next working day: FIRING per
  source while any is unsent, since the oldest one's deadline;
- a recipient of a document this bridge sent on the axis that has not said 01 by the end of
  the next working day after sending: FIRING per sending unit while any is silent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.alerts.state import Observation, Seen
from bridge.alerts.workdays import deadline
from bridge.domain.alerts import AlertKind, AlertRecord
from bridge.domain.enums import HealthState


@dataclass(frozen=True)
class RoadSeen:
    """One running source or sink as the monitor saw it."""

    name: str
    role: str
    profile: str
    units: tuple[tuple[str, str], ...]  # (unit id, unit name)
    state: str
    standby: bool = False
    last_error: str | None = None


def road_key(name: str) -> str:
    return f"road:{name}"


def overdue_key(source: str) -> str:
    return f"status01:{source}"


def road(
    r: RoadSeen, down_since: dt.datetime | None, now: dt.datetime, after_s: float
) -> Observation:
    """A road down since `down_since` (None: not seen down) as an observation."""
    detail = {
        "endpoint": r.name,
        "role": r.role,
        "profile": r.profile,
        "units": [list(u) for u in r.units],
        "state": r.state,
        "last_error": r.last_error,
    }
    key = road_key(r.name)
    if r.standby:  # another instance runs it: that one knows
        return Observation(key, AlertKind.ROAD_DOWN, Seen.KEEP)
    if r.state in (HealthState.OK, HealthState.DISABLED):
        return Observation(key, AlertKind.ROAD_DOWN, Seen.CLEAR, detail=detail)
    if down_since is not None and (now - down_since).total_seconds() >= after_s:
        return Observation(key, AlertKind.ROAD_DOWN, Seen.FIRING, down_since.isoformat(), detail)
    return Observation(key, AlertKind.ROAD_DOWN, Seen.KEEP)


def growth(
    kind: AlertKind, count: int, prev: AlertRecord | None, at_least: int, now: dt.datetime
) -> Observation:
    """Dead letters or quarantine: FIRING while `at_least` more are open than the baseline."""
    baseline = int(prev.detail.get("baseline", 0)) if prev is not None else 0
    if prev is None or not prev.firing:
        baseline = min(baseline, count)
    detail = {"count": count, "baseline": baseline, "new": max(count - baseline, 0)}
    seen = Seen.FIRING if count - baseline >= at_least else Seen.CLEAR
    return Observation(kind.value, kind, seen, now.isoformat(), detail)


def overdue(
    source: str,
    rows: Sequence[tuple[str, int, str]],
    unit_names: dict[str, str],
    holidays: Sequence[dt.date],
) -> Observation:
    """01s owed by `source` past their deadline: rows of (unit, how many, oldest arrival ISO)."""
    key = overdue_key(source)
    if not rows:
        return Observation(key, AlertKind.STATUS_OVERDUE, Seen.CLEAR)
    oldest, since = _oldest(rows, holidays)
    detail = {
        "endpoint": source,
        "count": sum(r[1] for r in rows),
        "units": [[unit, unit_names.get(unit, "")] for unit, _, _ in rows],
        "oldest": oldest,
    }
    return Observation(key, AlertKind.STATUS_OVERDUE, Seen.FIRING, since, detail)


def _oldest(rows: Sequence[tuple[str, Any, str]], holidays: Sequence[dt.date]) -> tuple[str, str]:
    """The oldest time (ISO, the rows' third column) and the deadline it passed (ISO)."""
    oldest = min(dt.datetime.fromisoformat(r[2]) for r in rows)
    return oldest.isoformat(), deadline(oldest, holidays).isoformat()


def outgoing_key(unit: str) -> str:
    return f"outgoing01:{unit}"


def outgoing_overdue(
    unit: str,
    rows: Sequence[tuple[str, str, str]],
    unit_names: dict[str, str],
    holidays: Sequence[dt.date],
) -> Observation:
    """Axis recipients of `unit`'s documents without a 01 past their deadline: rows of
    (document number/notation, recipient code, sent at ISO)."""
    key = outgoing_key(unit)
    if not rows:
        return Observation(key, AlertKind.OUTGOING_OVERDUE, Seen.CLEAR)
    oldest, since = _oldest(rows, holidays)
    detail = {
        "count": len(rows),
        "units": [[unit, unit_names.get(unit, "")]],
        "recipients": sorted({r[1] for r in rows})[:20],
        "documents": sorted({r[0] for r in rows})[:20],
        "oldest": oldest,
    }
    return Observation(key, AlertKind.OUTGOING_OVERDUE, Seen.FIRING, since, detail)
