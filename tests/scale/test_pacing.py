"""Polls spread over their interval: each source's place is stable and inside the interval,
the next poll lands in its slot, and at most a few sources share any one second."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.pacing import (
    first_poll_delay,
    next_poll_delay,
    offset_s,
    phase,
    start_spread_s,
)

names = st.text(min_size=1, max_size=40)
intervals = st.floats(min_value=0.1, max_value=86_400, allow_nan=False)
nows = st.floats(min_value=1e9, max_value=2e9, allow_nan=False)
jitters = st.floats(min_value=0.0, max_value=0.5, allow_nan=False)


@given(names, intervals)
def test_offset_is_stable_and_within_the_interval(name: str, interval: float) -> None:
    first = offset_s(name, interval)
    assert first == offset_s(name, interval), "the same name, the same place"
    assert 0.0 <= first < interval
    assert 0.0 <= phase(name) < 1.0


@given(names, intervals, nows, jitters, st.integers(0, 2**32))
def test_next_poll_lands_in_its_slot(
    name: str, interval: float, now: float, jitter: float, seed: int
) -> None:
    delay = next_poll_delay(name, interval, now, jitter, random.Random(seed))
    assert 0.0 < delay <= interval * (1 + jitter) * (1 + 1e-9)
    # the poll time, less its random move, is the source's offset plus a multiple of the interval
    late = (now + delay - offset_s(name, interval)) % interval
    tolerance = 1e-6 * max(1.0, now / interval)
    assert late <= jitter * interval + tolerance or interval - late <= tolerance


@given(st.integers(1, 5000), st.floats(min_value=1.0, max_value=3600.0), names)
def test_first_polls_spread_within_one_interval(sources: int, interval: float, name: str) -> None:
    spread = start_spread_s(sources, interval, 20.0)
    assert 0.0 <= spread <= interval
    assert 0.0 <= first_poll_delay(name, spread) <= max(spread, 0.0)
    if sources <= 20:
        assert spread == 0.0, "a few sources start at once"


def test_hundreds_of_sources_rarely_share_a_second() -> None:
    """1,500 sources polling every 60 s: no second has more than a tenth of them, and far
    fewer in fact (they spread as evenly as their hashes do)."""
    names = [f"{unit:03d}-{road}" for unit in range(300) for road in ("td", "mo", "vo", "id", "vx")]
    rng = random.Random(7)
    now = 1_800_000_000.0
    per_second: dict[int, int] = {}
    for name in names:
        at = now + next_poll_delay(name, 60.0, now, 0.1, rng)
        per_second[int(at)] = per_second.get(int(at), 0) + 1
    assert max(per_second.values()) <= len(names) // 10
    assert max(per_second.values()) <= 60, "about 25 a second on average"
    assert len(per_second) >= 60, "every second of the minute has some"
