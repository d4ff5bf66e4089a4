"""The date-aware resolver and the matcher over generated codes, dates and arrival orders.

A commune merged into a successor on a cut-over day is the successor for documents dated on
or after it and itself before; identity follows: in any arrival order, records of one number
and date are one document exactly when their issuers' codes name one organ that day."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.dedup import Matcher
from bridge.normalize import OrganDirectory
from bridge.normalize.organ_history import DirectoryEntry, Successor, other_form
from bridge.store import SqliteStore
from schemas import Organ
from tests.dedup.helpers import Desk, attachment, document

COMMUNES = [f"000.{n:02d}.31.H59" for n in range(1, 7)]
SUCCESSOR = "000.50.31.H59"
START = dt.date(2025, 1, 1)
EARLIER = dt.timedelta(days=10)
DAYS = st.integers(0, 364).map(lambda n: START + dt.timedelta(days=n))


@st.composite
def mergers(draw: st.DrawFn) -> tuple[list[DirectoryEntry], dict[str, dt.date], bool]:
    """Communes, some merged into the successor on their deletion day (or announced ahead,
    not yet deleted); the states shuffled; whether the configuration dates them instead."""
    merged: dict[str, dt.date] = {}
    states: list[DirectoryEntry] = []
    version = 0
    for index, code in enumerate(COMMUNES):
        version += 1
        states.append(
            DirectoryEntry(str(index), code, f"Ủy ban nhân dân xã {index}", version=version)
        )
        if draw(st.booleans()):
            day = draw(DAYS)
            merged[code] = day
            if draw(st.booleans()):  # deleted on that day
                version += 1
                states.append(
                    DirectoryEntry(
                        str(index),
                        code,
                        f"Ủy ban nhân dân xã {index}",
                        deleted=True,
                        modified=dt.datetime.combine(day, dt.time(8)),
                        version=version,
                    )
                )
    announced = min(merged.values(), default=START)
    # announced ahead: a commune not deleted takes effect on the successor's own date
    for code in merged:
        if not any(s.code == code and s.deleted for s in states):
            merged[code] = announced
    version += 1
    states.append(
        DirectoryEntry(
            "99",
            SUCCESSOR,
            "Ủy ban nhân dân xã Mới",
            old_codes=tuple(merged),
            modified=dt.datetime.combine(announced, dt.time(0)),
            version=version,
        )
    )
    return draw(st.permutations(states)), merged, draw(st.booleans())


def _directory(
    states: list[DirectoryEntry], merged: dict[str, dt.date], configured: bool
) -> OrganDirectory:
    directory = OrganDirectory()
    directory.refresh(states)
    if configured:  # the configuration wins: dated ten days earlier than the axis says
        directory.set_successors(
            Successor(code, SUCCESSOR, day - EARLIER) for code, day in merged.items()
        )
    return directory


@settings(max_examples=200, deadline=None)
@given(mergers(), st.sampled_from(COMMUNES), DAYS)
def test_an_old_code_is_its_successor_only_from_the_cut_over(
    plan: tuple[list[DirectoryEntry], dict[str, dt.date], bool], code: str, day: dt.date
) -> None:
    states, merged, configured = plan
    directory = _directory(states, merged, configured)
    found = directory.resolve_at(code, day)
    cut_over = merged.get(code)
    if cut_over is not None and configured:
        cut_over -= EARLIER
    expected = SUCCESSOR if cut_over is not None and day >= cut_over else code
    assert found.code == expected, (found, cut_over)
    assert found.known
    again = directory.resolve_at(found.code, day)
    assert again.code == found.code  # resolving is idempotent
    swapped = other_form(code)
    assert swapped is not None and directory.resolve_at(swapped, day).code == expected
    # the order in which the states were stored does not matter
    shuffled = list(states)
    random.Random(day.toordinal()).shuffle(shuffled)
    assert _directory(shuffled, merged, configured).resolve_at(code, day) == found


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[dt.date, list[tuple[str, dt.date]]]:
    """A merger day and records of one number by communes and the successor, in any order."""
    cut_over = draw(DAYS)
    issuers = st.sampled_from([*COMMUNES[:3], SUCCESSOR])
    days = st.sampled_from([cut_over - dt.timedelta(days=1), cut_over])
    records = draw(st.lists(st.tuples(issuers, days), min_size=2, max_size=8))
    return cut_over, records


async def _feed(directory: OrganDirectory, records: list[tuple[str, dt.date]]) -> list[int]:
    with tempfile.TemporaryDirectory() as tmp:
        async with SqliteStore(Path(tmp) / "store.sqlite3") as store:
            desk = Desk(store, Matcher(store, lambda u: ["home"], directory))
            ids = []
            for n, (code, day) in enumerate(records):
                doc = document(
                    issuer=Organ(code=code),
                    number="15",
                    notation="BC-UBND",
                    issued_on=day,
                    attachments=(attachment(f"{code}-{day}-{n}"),),
                )
                outcome = await desk.feed(doc)
                assert outcome.document_id is not None, outcome.decision
                ids.append(outcome.document_id)
            return ids


@settings(max_examples=40, deadline=None)
@given(arrivals())
def test_records_are_one_document_exactly_when_one_organ_that_day(
    plan: tuple[dt.date, list[tuple[str, dt.date]]],
) -> None:
    cut_over, records = plan
    directory = OrganDirectory()
    directory.refresh(
        [
            *(
                DirectoryEntry(str(i), code, f"Ủy ban nhân dân xã {i}", version=i + 1)
                for i, code in enumerate(COMMUNES[:3])
            ),
            DirectoryEntry(
                "99",
                SUCCESSOR,
                "Ủy ban nhân dân xã Mới",
                old_codes=tuple(COMMUNES[:3]),
                version=10,
            ),
        ]
    )
    directory.set_successors(Successor(code, SUCCESSOR, cut_over) for code in COMMUNES[:3])
    ids = asyncio.run(_feed(directory, records))

    def organ(code: str, day: dt.date) -> tuple[str, dt.date]:
        return (SUCCESSOR if day >= cut_over else code, day)

    for i, first in enumerate(records):
        for j, second in enumerate(records):
            same = organ(*first) == organ(*second)
            assert (ids[i] == ids[j]) == same, (records, ids)
