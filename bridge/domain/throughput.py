"""Throughput and queue depth over a window, bucketed: records received and documents delivered
in each bucket, and the deliveries still pending at each bucket's end.

Derived from rows the store keeps anyway (a record's `received_at`, an outbox row's
`created_at` and `done_at`), so nothing is sampled: a delivery is pending at time t when it was
created at or before t and not done by t.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    """One outbox row's life: made at `created`, finished at `done` (None: still open);
    `delivered` when it finished by reaching the home system."""

    created: dt.datetime
    done: dt.datetime | None
    delivered: bool


@dataclass(frozen=True)
class Bucket:
    """One interval (start, end]: what came in, what went home, and the queue at its end."""

    start: dt.datetime
    end: dt.datetime
    received: int
    delivered: int
    pending: int

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "received": self.received,
            "delivered": self.delivered,
            "pending": self.pending,
        }


def bucket_ends(now: dt.datetime, hours: int, step: dt.timedelta) -> list[dt.datetime]:
    """The ends of the buckets covering the last `hours` up to `now`, oldest first; the last
    bucket ends at `now`, each spans `step`."""
    count = max(1, int(dt.timedelta(hours=hours) / step))
    return [now - step * (count - 1 - i) for i in range(count)]


def _count_in(sorted_times: Sequence[dt.datetime], start: dt.datetime, end: dt.datetime) -> int:
    """How many of `sorted_times` fall in (start, end]."""
    return bisect_right(sorted_times, end) - bisect_right(sorted_times, start)


def buckets(
    now: dt.datetime,
    hours: int,
    step: dt.timedelta,
    received: Iterable[dt.datetime],
    deliveries: Iterable[Delivery],
) -> list[Bucket]:
    """The buckets of the last `hours` before `now` (oldest first). Sorting once, each bucket
    costs a few binary searches: the queue at t is the deliveries made by t less those done
    by t (a delivery is done after it is made)."""
    got = sorted(received)
    rows = list(deliveries)
    made = sorted(d.created for d in rows)
    finished = sorted(d.done for d in rows if d.done is not None)
    delivered = sorted(d.done for d in rows if d.done is not None and d.delivered)
    out = []
    for end in bucket_ends(now, hours, step):
        start = end - step
        pending = bisect_right(made, end) - bisect_right(finished, end)
        out.append(
            Bucket(
                start, end, _count_in(got, start, end), _count_in(delivered, start, end), pending
            )
        )
    return out
