"""Each alert's episode and what each channel was told of it, as pure steps.

An observation says an alert is `FIRING` (with since when and the facts to tell), `CLEAR`
(over), or `KEEP` (nothing can be said now: a road not yet tried since a restart, a road
another instance runs): the kept state stands. A channel is told the START of an episode once,
a REMIND every `remind_every_s` while it lasts, and its END once — only when it was told the
start. A channel whose send failed is owed the same notice at the next evaluation; one that
missed an end when a new episode starts is not told a second start (it never heard the end).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bridge.domain.alerts import AlertKind, AlertRecord, Told


class Seen(StrEnum):
    FIRING = "firing"
    CLEAR = "clear"
    KEEP = "keep"


class Notice(StrEnum):
    START = "start"
    REMIND = "remind"
    END = "end"


@dataclass(frozen=True)
class Observation:
    """What the rules saw of one alert at one evaluation."""

    key: str
    kind: AlertKind
    seen: Seen
    since: str = ""  # ISO: when the condition began (FIRING)
    detail: Mapping[str, Any] = field(default_factory=dict)


def observe(prev: AlertRecord | None, obs: Observation, now_iso: str) -> AlertRecord | None:
    """The alert's state after `obs` (None: no alert was ever kept and none starts)."""
    if obs.seen is Seen.FIRING:
        if prev is None or not prev.firing:  # a new episode: nobody told of it yet, but a
            # channel never told the last one's end still believes it: for it, it goes on
            told = {} if prev is None else {c: t for c, t in prev.told.items() if not t.ended}
            return AlertRecord(obs.key, obs.kind, True, obs.since, None, dict(obs.detail), told)
        return dataclasses.replace(prev, detail=dict(obs.detail))
    if obs.seen is Seen.CLEAR and prev is not None and prev.firing:
        detail = {**prev.detail, **obs.detail}
        return dataclasses.replace(prev, firing=False, ended_at=now_iso, detail=detail)
    if obs.seen is Seen.CLEAR and prev is not None and obs.detail:
        return dataclasses.replace(prev, detail={**prev.detail, **obs.detail})
    return prev


def owed(record: AlertRecord, channel: str, now: float, remind_every_s: float) -> Notice | None:
    """The notice `channel` is owed of `record` at `now`, if any."""
    told = record.told.get(channel, Told())
    if record.firing:
        if not told.started:
            return Notice.START
        return Notice.REMIND if now - told.last_at >= remind_every_s else None
    return Notice.END if told.started and not told.ended else None


def told(record: AlertRecord, channel: str, notice: Notice, now: float) -> AlertRecord:
    """`record` once `channel` was told `notice` at `now`."""
    before = record.told.get(channel, Told())
    after = (
        dataclasses.replace(before, ended=True)
        if notice is Notice.END
        else Told(started=True, last_at=now, ended=False)
    )
    return dataclasses.replace(record, told={**record.told, channel: after})
