"""When each source polls: a fixed place in its interval, plus a little chance.

Hundreds of sources with one interval used to poll at the same instant (every source started
together, then waited its interval): one second of hundreds of requests, then nothing. Each
source now has its own phase in the interval, a stable hash of its name, so a restart keeps
the spread and two instances sharing the work agree on it; each poll is moved later by up to
`jitter` of the interval at random, so sources whose hashes fall close do not stay together.
The first poll after a start is spread over `start_spread_s` the same way.
"""

from __future__ import annotations

import hashlib
import math
import random

_SCALE = float(2**64)


def phase(name: str) -> float:
    """A stable fraction in [0, 1) for `name` (the same in every process and every run)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def offset_s(name: str, interval_s: float) -> float:
    """The source's place in its interval, in seconds from a multiple of the interval."""
    return phase(name) * interval_s


def next_poll_delay(
    name: str,
    interval_s: float,
    now: float,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds from `now` (a wall-clock time) to the source's next poll: its next slot (a
    multiple of the interval plus its offset) strictly after `now`, moved later by up to
    `jitter` of the interval. Never more than `interval_s * (1 + jitter)`."""
    start = offset_s(name, interval_s)
    slots = math.floor((now - start) / interval_s) + 1
    slot = start + slots * interval_s
    if slot <= now:  # float rounding at a slot's edge
        slot += interval_s
    spread = (rng or _RNG).uniform(0.0, jitter * interval_s) if jitter > 0 else 0.0
    return slot - now + spread


def first_poll_delay(name: str, start_spread_s: float) -> float:
    """Seconds after a start before the source's first poll: its place in `start_spread_s`
    (0 when there is nothing to spread)."""
    return phase(name) * start_spread_s if start_spread_s > 0 else 0.0


def start_spread_s(sources: int, interval_s: float, starts_per_s: float) -> float:
    """Over how long the first polls of `sources` sources are spread after a start: at most
    `starts_per_s` a second, never longer than one interval (a few sources start at once)."""
    return min(interval_s, sources / starts_per_s) if sources > starts_per_s else 0.0


# How often a document's status is asked at its home system, by the time since it was
# delivered: (younger than, ask at most every). Recent documents change often; a document
# a week old rarely does; one done (or refused) is never asked again (the store's
# `status_final`).
STATUS_AGES: tuple[tuple[float, float], ...] = (
    (3600.0, 0.0),  # the first hour: every status poll interval
    (86_400.0, 900.0),  # the first day: every 15 minutes
    (7 * 86_400.0, 3 * 3600.0),  # the first week: every 3 hours
)
STATUS_OLD_EVERY_S = 86_400.0  # older: once a day


def status_every_s(age_s: float, interval_s: float) -> float:
    """How long to wait between two questions about a document delivered `age_s` ago."""
    for younger_than, every_s in STATUS_AGES:
        if age_s < younger_than:
            return max(interval_s, every_s)
    return max(interval_s, STATUS_OLD_EVERY_S)


_RNG = random.Random()
