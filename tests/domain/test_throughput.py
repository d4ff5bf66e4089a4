"""Bucketing throughput: received and delivered counted in (start, end], pending at each end."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.throughput import Delivery, bucket_ends, buckets

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def at(hours_ago: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours_ago)


def test_bucket_ends_cover_the_window_and_end_now() -> None:
    ends = bucket_ends(NOW, 24, HOUR)
    assert len(ends) == 24 and ends[-1] == NOW and ends[0] == at(23)
    assert len(bucket_ends(NOW, 2, dt.timedelta(minutes=10))) == 12


def test_received_and_delivered_fall_in_their_bucket() -> None:
    received = [at(0.5), at(0.25), at(1.5), at(30)]  # the last one is before the window
    deliveries = [
        Delivery(at(1.5), at(0.5), delivered=True),
        Delivery(at(1.5), at(0.5), delivered=False),  # given up: not delivered
    ]
    got = buckets(NOW, 3, HOUR, received, deliveries)
    assert [b.received for b in got] == [0, 1, 2]
    assert [b.delivered for b in got] == [0, 0, 1]


def test_a_bucket_is_open_at_its_start_and_closed_at_its_end() -> None:
    got = buckets(NOW, 2, HOUR, [at(1)], [])
    assert [b.received for b in got] == [1, 0]  # exactly at the first bucket's end


def test_pending_is_the_queue_at_each_bucket_end() -> None:
    deliveries = [
        Delivery(at(2.5), at(0.5), delivered=True),  # pending at the ends 2 h and 1 h ago
        Delivery(at(1.5), None, delivered=False),  # still pending
        Delivery(at(0.2), at(0.1), delivered=True),  # made and done within the last bucket
    ]
    got = buckets(NOW, 3, HOUR, [], deliveries)
    assert [b.pending for b in got] == [1, 2, 1]
    assert [b.end for b in got] == [at(2), at(1), NOW]


times = st.floats(min_value=0, max_value=30).map(at)


@given(st.lists(times, max_size=40))
def test_every_received_in_the_window_is_counted_once(received: list[dt.datetime]) -> None:
    got = buckets(NOW, 24, HOUR, received, [])
    assert sum(b.received for b in got) == sum(1 for t in received if at(24) < t <= NOW)


@given(st.lists(st.tuples(times, st.floats(min_value=0, max_value=30)), max_size=30))
def test_pending_never_exceeds_what_was_made(pairs: list[tuple[dt.datetime, float]]) -> None:
    rows = [Delivery(c, c + dt.timedelta(hours=d), delivered=True) for c, d in pairs]
    for b in buckets(NOW, 24, HOUR, [], rows):
        made = sum(1 for r in rows if r.created <= b.end)
        assert 0 <= b.pending <= made
