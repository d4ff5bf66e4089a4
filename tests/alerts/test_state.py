"""Each alert once when it starts, reminded every `remind_every` while it lasts, its end once;
a channel that failed is owed the same notice again; the growth rules' baseline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bridge.alerts import rules
from bridge.alerts.state import Notice, Observation, Seen, observe, owed, told
from bridge.domain.alerts import AlertKind, AlertRecord

HOUR = 3600.0
T0 = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
FIRING = Observation(
    "road:a", AlertKind.ROAD_DOWN, Seen.FIRING, T0.isoformat(), {"state": "failing"}
)
CLEAR = Observation("road:a", AlertKind.ROAD_DOWN, Seen.CLEAR)
KEEP = Observation("road:a", AlertKind.ROAD_DOWN, Seen.KEEP)


def run(
    steps: Sequence[tuple[float, Observation]], failing: frozenset[float] = frozenset()
) -> list[tuple[float, Notice]]:
    """Observe each step at its hour and tell the one channel what it is owed; the sends at
    the hours in `failing` fail. Returns what was told, when."""
    alert: AlertRecord | None = None
    said = []
    for hour, obs in steps:
        now = T0.timestamp() + hour * HOUR
        alert = observe(alert, obs, dt.datetime.fromtimestamp(now, dt.UTC).isoformat())
        if alert is None:
            continue
        notice = owed(alert, "email", now, remind_every_s=4 * HOUR)
        if notice is not None and hour not in failing:
            said.append((hour, notice))
            alert = told(alert, "email", notice, now)
    return said


def test_start_once_remind_every_four_hours_end_once() -> None:
    steps = [(h, FIRING) for h in (0, 1, 3.9, 4, 5, 8.5, 9)] + [(10, CLEAR), (11, CLEAR)]
    assert run(steps) == [
        (0, Notice.START),
        (4, Notice.REMIND),
        (8.5, Notice.REMIND),
        (10, Notice.END),
    ]


def test_keep_changes_nothing_and_a_new_episode_starts_afresh() -> None:
    steps = [(0, KEEP), (1, FIRING), (2, KEEP), (3, CLEAR), (4, KEEP), (5, FIRING), (6, CLEAR)]
    assert run(steps) == [(1, Notice.START), (3, Notice.END), (5, Notice.START), (6, Notice.END)]


def test_a_failed_send_is_owed_again_and_an_untold_start_needs_no_end() -> None:
    steps = [(0, FIRING), (1, FIRING), (2, CLEAR), (3, FIRING), (4, CLEAR), (5, CLEAR)]
    # The start at 0 fails: told at 1, the end at 2; the start at 3 fails and so needs no end.
    assert run(steps, failing=frozenset({0, 3})) == [(1, Notice.START), (2, Notice.END)]
    # The end at 2 fails: the channel still believes the first episode, so the second is no
    # new start for it, and its end is the one it is told.
    assert run(steps, failing=frozenset({2, 3})) == [(0, Notice.START), (4, Notice.END)]


def test_the_since_of_an_episode_is_kept_while_it_lasts() -> None:
    first = observe(None, FIRING, T0.isoformat())
    later = Observation("road:a", AlertKind.ROAD_DOWN, Seen.FIRING, "2026-12-08T00:00:00+00:00")
    assert first is not None
    assert observe(first, later, T0.isoformat()) == AlertRecord(
        "road:a", AlertKind.ROAD_DOWN, True, T0.isoformat(), None, {}, {}
    )


def test_growth_counts_from_the_last_all_clear() -> None:
    kind = AlertKind.DEAD_LETTERS
    alert: AlertRecord | None = None
    seen = []
    for count in (0, 2, 3, 1, 0, 1, 1):
        obs = rules.growth(kind, count, alert, at_least=2, now=T0)
        alert = observe(alert, obs, T0.isoformat())
        seen.append((obs.seen, obs.detail["new"]))
    assert seen == [
        (Seen.CLEAR, 0),
        (Seen.FIRING, 2),
        (Seen.FIRING, 3),
        (Seen.CLEAR, 1),  # the operator replayed two: fewer than two new remain
        (Seen.CLEAR, 0),
        (Seen.CLEAR, 1),
        (Seen.CLEAR, 1),
    ]
    # Handled ones leave the baseline lower: five standing dead letters, two replayed, then
    # one new one is one new, not a fourth.
    quiet = AlertRecord(kind.value, kind, False, T0.isoformat(), detail={"baseline": 5})
    obs = rules.growth(kind, 3, quiet, at_least=1, now=T0)
    lower = observe(quiet, obs, T0.isoformat())
    assert obs.seen is Seen.CLEAR and lower is not None and lower.detail["baseline"] == 3
    assert rules.growth(kind, 4, lower, at_least=1, now=T0).seen is Seen.FIRING


def test_a_road_fires_only_past_the_alert_time_and_clears_when_ok() -> None:
    road = rules.RoadSeen("a", "source", "vxp", (("000.00.33.H49", "Vân Đồn"),), "failing")
    since = T0 - dt.timedelta(minutes=9)
    assert rules.road(road, since, T0, after_s=600).seen is Seen.KEEP
    assert rules.road(road, since - dt.timedelta(minutes=1), T0, after_s=600).seen is Seen.FIRING
    assert rules.road(road, None, T0, after_s=600).seen is Seen.KEEP
    ok = rules.RoadSeen("a", "source", "vxp", (), "ok")
    assert rules.road(ok, None, T0, after_s=600).seen is Seen.CLEAR
    standby = rules.RoadSeen("a", "source", "vxp", (), "failing", standby=True)
    assert rules.road(standby, since - dt.timedelta(hours=1), T0, after_s=600).seen is Seen.KEEP
